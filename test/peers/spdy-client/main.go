// Command spdy-client drives vic-kubelet's streaming endpoints with client-go's real executors, so
// the integration tests talk to the same SPDY/3.1 (moby/spdystream) and WebSocket code that kubectl
// and the API server use.
//
//	spdy-client exec --url URL [--transport spdy|websocket] [--stdin] [--stdout] [--stderr] [--tty]
//	                 [--resize 80x24,100x40] --result FILE
//	spdy-client portforward --url URL --port 80 [--transport spdy|tunnel] [--connections N] [--bytes N]
//
// exec copies its own stdin/stdout/stderr to the remote streams and writes the outcome as JSON to
// --result: {"exitCode":N} when the remote command ended (N = 0 on success), {"error":"..."} otherwise.
// portforward opens N local connections through the forwarder, sends N bytes of random data on each,
// checks that the same bytes come back, and prints {"connections":N,"bytes":M} on stdout.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"
	utilexec "k8s.io/client-go/util/exec"
	"k8s.io/klog/v2"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: spdy-client exec|portforward [flags]")
	}
	var err error
	switch os.Args[1] {
	case "exec":
		err = runExec(os.Args[2:])
	case "portforward":
		err = runPortForward(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "spdy-client:", msg)
	os.Exit(2)
}

// quietKlog sends client-go's logs to a file (or nowhere), since our stderr carries the remote stderr.
func quietKlog(path string) error {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	_ = fs.Set("logtostderr", "false")
	_ = fs.Set("alsologtostderr", "false")
	_ = fs.Set("stderrthreshold", "FATAL")
	if path == "" {
		klog.SetOutput(io.Discard)
		return nil
	}
	_ = fs.Set("v", "6")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	klog.SetOutput(f)
	return nil
}

func restConfig(rawURL string) (*rest.Config, *url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, err
	}
	cfg := &rest.Config{
		Host:            u.Scheme + "://" + u.Host,
		TLSClientConfig: rest.TLSClientConfig{Insecure: true},
	}
	return cfg, u, nil
}

// sizeQueue hands client-go a fixed list of terminal sizes, then ends the resize stream's feed.
type sizeQueue struct {
	sizes []remotecommand.TerminalSize
}

func (q *sizeQueue) Next() *remotecommand.TerminalSize {
	if len(q.sizes) == 0 {
		return nil
	}
	next := q.sizes[0]
	q.sizes = q.sizes[1:]
	return &next
}

func parseSizes(spec string) ([]remotecommand.TerminalSize, error) {
	var sizes []remotecommand.TerminalSize
	for _, item := range strings.Split(spec, ",") {
		if item == "" {
			continue
		}
		w, h, ok := strings.Cut(item, "x")
		if !ok {
			return nil, fmt.Errorf("bad size %q", item)
		}
		width, err := strconv.ParseUint(w, 10, 16)
		if err != nil {
			return nil, err
		}
		height, err := strconv.ParseUint(h, 10, 16)
		if err != nil {
			return nil, err
		}
		sizes = append(sizes, remotecommand.TerminalSize{Width: uint16(width), Height: uint16(height)})
	}
	return sizes, nil
}

func runExec(args []string) error {
	fs := flag.NewFlagSet("exec", flag.ContinueOnError)
	rawURL := fs.String("url", "", "full exec/attach URL including the query")
	transport := fs.String("transport", "spdy", "spdy or websocket")
	stdin := fs.Bool("stdin", false, "send our stdin")
	stdout := fs.Bool("stdout", false, "receive stdout")
	stderr := fs.Bool("stderr", false, "receive stderr")
	tty := fs.Bool("tty", false, "request a TTY")
	resize := fs.String("resize", "", "terminal sizes to send, e.g. 80x24,100x40")
	result := fs.String("result", "", "file that receives the JSON outcome")
	protocols := fs.String("protocols", "", "SPDY only: X-Stream-Protocol-Version values to offer, comma-separated")
	logFile := fs.String("log", "", "file for client-go's logs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := quietKlog(*logFile); err != nil {
		return err
	}
	cfg, u, err := restConfig(*rawURL)
	if err != nil {
		return err
	}
	var executor remotecommand.Executor
	switch {
	case *transport == "spdy" && *protocols != "":
		rt, upgrader, rtErr := spdy.RoundTripperFor(cfg)
		if rtErr != nil {
			return rtErr
		}
		executor, err = remotecommand.NewSPDYExecutorForProtocols(rt, upgrader, "POST", u, strings.Split(*protocols, ",")...)
	case *transport == "spdy":
		executor, err = remotecommand.NewSPDYExecutor(cfg, "POST", u)
	case *transport == "websocket":
		executor, err = remotecommand.NewWebSocketExecutor(cfg, "GET", u.String())
	default:
		err = fmt.Errorf("unknown transport %q", *transport)
	}
	if err != nil {
		return err
	}
	opts := remotecommand.StreamOptions{Tty: *tty}
	if *stdin {
		opts.Stdin = os.Stdin
	}
	if *stdout {
		opts.Stdout = os.Stdout
	}
	if *stderr {
		opts.Stderr = os.Stderr
	}
	if *resize != "" {
		sizes, err := parseSizes(*resize)
		if err != nil {
			return err
		}
		opts.TerminalSizeQueue = &sizeQueue{sizes: sizes}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	streamErr := executor.StreamWithContext(ctx, opts)

	outcome := map[string]any{}
	var exitErr utilexec.ExitError
	switch {
	case streamErr == nil:
		outcome["exitCode"] = 0
	case errors.As(streamErr, &exitErr) && exitErr.Exited():
		outcome["exitCode"] = exitErr.ExitStatus()
		outcome["message"] = exitErr.Error()
	default:
		outcome["error"] = streamErr.Error()
	}
	encoded, _ := json.Marshal(outcome)
	if *result == "" {
		fmt.Fprintln(os.Stderr, string(encoded))
		return nil
	}
	return os.WriteFile(*result, encoded, 0o644)
}

func runPortForward(args []string) error {
	fs := flag.NewFlagSet("portforward", flag.ContinueOnError)
	rawURL := fs.String("url", "", "full portForward URL")
	transport := fs.String("transport", "spdy", "spdy or tunnel (SPDY over WebSocket)")
	remotePort := fs.Int("port", 80, "remote port")
	connections := fs.Int("connections", 1, "concurrent local connections")
	size := fs.Int("bytes", 1024, "bytes to send on each connection")
	logFile := fs.String("log", "", "file for client-go's logs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := quietKlog(*logFile); err != nil {
		return err
	}
	cfg, u, err := restConfig(*rawURL)
	if err != nil {
		return err
	}
	pfDialer, err := newDialer(*transport, cfg, u)
	if err != nil {
		return err
	}
	stop := make(chan struct{})
	ready := make(chan struct{})
	forwarder, err := portforward.NewOnAddresses(pfDialer, []string{"127.0.0.1"},
		[]string{fmt.Sprintf("0:%d", *remotePort)}, stop, ready, io.Discard, io.Discard)
	if err != nil {
		return err
	}
	forwardErr := make(chan error, 1)
	go func() { forwardErr <- forwarder.ForwardPorts() }()
	select {
	case <-ready:
	case err := <-forwardErr:
		return fmt.Errorf("port-forward failed before ready: %v", err)
	case <-time.After(time.Minute):
		return errors.New("port-forward not ready after a minute")
	}
	ports, err := forwarder.GetPorts()
	if err != nil {
		return err
	}
	local := fmt.Sprintf("127.0.0.1:%d", ports[0].Local)

	var wg sync.WaitGroup
	errs := make(chan error, *connections)
	for i := 0; i < *connections; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- roundTrip(local, *size)
		}()
	}
	wg.Wait()
	close(errs)
	close(stop)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	encoded, _ := json.Marshal(map[string]int{"connections": *connections, "bytes": *size})
	fmt.Println(string(encoded))
	return nil
}

// roundTrip sends size random bytes through the forwarded port, half-closes, and checks the echo.
func roundTrip(addr string, size int) error {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(90 * time.Second))
	payload := make([]byte, size)
	if _, err := rand.Read(payload); err != nil {
		return err
	}
	writeErr := make(chan error, 1)
	go func() {
		_, err := conn.Write(payload)
		if err == nil {
			err = conn.(*net.TCPConn).CloseWrite()
		}
		writeErr <- err
	}()
	got, err := io.ReadAll(conn)
	if err != nil {
		return fmt.Errorf("reading the echo: %v", err)
	}
	if err := <-writeErr; err != nil {
		return fmt.Errorf("writing: %v", err)
	}
	if !bytes.Equal(got, payload) {
		return fmt.Errorf("echo differs: sent %d bytes, got %d", len(payload), len(got))
	}
	return nil
}

func newDialer(transport string, cfg *rest.Config, u *url.URL) (httpstream.Dialer, error) {
	switch transport {
	case "spdy":
		rt, upgrader, err := spdy.RoundTripperFor(cfg)
		if err != nil {
			return nil, err
		}
		return spdy.NewDialer(upgrader, &http.Client{Transport: rt}, "POST", u), nil
	case "tunnel":
		return portforward.NewSPDYOverWebsocketDialer(u, cfg)
	default:
		return nil, fmt.Errorf("unknown transport %q", transport)
	}
}
