// Thin wrapper so the test environment can build metrics-server from the sigs.k8s.io/metrics-server
// module, as its own cmd/metrics-server does.
package main

import (
	"os"
	_ "time/tzdata"

	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/component-base/logs"

	"sigs.k8s.io/metrics-server/cmd/metrics-server/app"
)

func main() {
	logs.InitLogs()
	defer logs.FlushLogs()

	cmd := app.NewMetricsServerCommand(genericapiserver.SetupSignalHandler())
	if err := cmd.Execute(); err != nil {
		logs.FlushLogs()
		os.Exit(1)
	}
}
