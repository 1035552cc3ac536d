// Command nodelogs is the stack's stand-in kubelet: it registers a Node, binds and starts the pods
// of its namespaces and serves the kubelet's container-log endpoint over HTTPS from a log file.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/perfbot/perfbot/dev/nodelogs"
)

type options struct {
	file, nsDir, kubeconfig, node, address string
	certFile, keyFile, clientCA            string
	namespaces                             string
	port                                   int
	interval                               time.Duration
}

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], log); err != nil {
		log.Error("nodelogs", "err", err)
		os.Exit(1)
	}
}

func parse(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("nodelogs", flag.ContinueOnError)
	fs.StringVar(&o.address, "address", "127.0.0.1", "the Node's InternalIP and the address to listen on")
	fs.IntVar(&o.port, "port", 18250, "HTTPS port of the kubelet log endpoint")
	fs.StringVar(&o.file, "file", "", "log file served for every container (required)")
	fs.StringVar(&o.nsDir, "namespace-dir", "", "directory of <namespace>.log files served instead of -file for those namespaces")
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig of the Node's API credentials (required)")
	fs.StringVar(&o.node, "node", "studio-node-1", "Node name")
	fs.StringVar(&o.certFile, "tls-cert", "", "serving certificate (required)")
	fs.StringVar(&o.keyFile, "tls-key", "", "serving key (required)")
	fs.StringVar(&o.clientCA, "client-ca", "", "CA that signs the API server's kubelet client certificate; empty accepts any client")
	fs.StringVar(&o.namespaces, "namespaces", "agentic-studio", "comma-separated namespaces whose pending pods are bound and started")
	fs.DurationVar(&o.interval, "interval", 2*time.Second, "how often pods are synced")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.file == "" || o.kubeconfig == "" || o.certFile == "" || o.keyFile == "" {
		return o, errors.New("-file, -kubeconfig, -tls-cert and -tls-key are required")
	}
	return o, nil
}

func run(ctx context.Context, args []string, log *slog.Logger) error {
	o, err := parse(args)
	if err != nil {
		return err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", o.kubeconfig)
	if err != nil {
		return fmt.Errorf("load kubeconfig: %w", err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	agent := &nodelogs.Agent{
		Client: client, Node: o.node, Address: o.address, Port: int32(o.port),
		Namespaces: strings.Split(o.namespaces, ","), Now: time.Now, Log: log,
	}
	if err := agent.Register(ctx); err != nil {
		return err
	}
	go agent.Run(ctx, o.interval)
	srv := &nodelogs.Server{File: o.file, NamespaceDir: o.nsDir, Pods: agent, Now: time.Now, Log: log}
	return serve(ctx, o, srv.Handler(), log)
}

func serve(ctx context.Context, o options, h http.Handler, log *slog.Logger) error {
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.clientCA != "" {
		pem, err := os.ReadFile(o.clientCA)
		if err != nil {
			return fmt.Errorf("read client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("client CA %s holds no certificate", o.clientCA)
		}
		tlsCfg.ClientCAs, tlsCfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	hs := &http.Server{
		Addr: fmt.Sprintf("%s:%d", o.address, o.port), Handler: h, TLSConfig: tlsCfg,
		ReadHeaderTimeout: 5 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.ListenAndServeTLS(o.certFile, o.keyFile) }()
	log.Info("serving container logs", "addr", hs.Addr, "file", o.file, "node", o.node)
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return hs.Shutdown(shut)
}
