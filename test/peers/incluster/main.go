// incluster is a Kubernetes in-cluster client for the end-to-end tests: it builds its configuration
// exactly as client-go's rest.InClusterConfig does (KUBERNETES_SERVICE_HOST/PORT, the mounted
// service-account token and ca.crt), GETs one API path and prints "status=<code>".
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: incluster <api-path> | incluster sleep")
		os.Exit(2)
	}
	if os.Args[1] == "sleep" {
		// Keeps the container alive for kubectl exec (a bare select{} would be a deadlock).
		for {
			time.Sleep(time.Hour)
		}
	}
	config, err := rest.InClusterConfig()
	if err != nil {
		fmt.Fprintln(os.Stderr, "in-cluster config:", err)
		os.Exit(3)
	}
	config.Timeout = 20 * time.Second
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(3)
	}
	var code int
	result := client.CoreV1().RESTClient().Get().AbsPath(os.Args[1]).Do(context.Background()).StatusCode(&code)
	if code == 0 {
		// No HTTP answer at all (TLS or connection failure): say why.
		fmt.Fprintln(os.Stderr, "request:", result.Error())
		os.Exit(4)
	}
	fmt.Printf("status=%d\n", code)
}
