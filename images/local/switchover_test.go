package local_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// elasticIP plays the stack's Elastic IP on loopback: it forwards each connection to the
// instance the address is associated with. Moving it drops the connections open to the old
// instance, as a remapped address does (the new instance has no state for them).
type elasticIP struct {
	l       net.Listener
	mu      sync.Mutex
	target  int // the loopback port of the associated instance's 443
	conns   map[net.Conn]bool
	dropped int // client connections open when the address moved
}

func newElasticIP(t *testing.T, target int) *elasticIP {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	e := &elasticIP{l: l, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { _ = l.Close(); e.move(0) })
	go e.serve()
	return e
}

func (e *elasticIP) port() int { return e.l.Addr().(*net.TCPAddr).Port }

func (e *elasticIP) serve() {
	for {
		c, err := e.l.Accept()
		if err != nil {
			return
		}
		go e.forward(c)
	}
}

func (e *elasticIP) forward(c net.Conn) {
	e.mu.Lock()
	target := e.target
	e.mu.Unlock()
	up, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(target))
	if err != nil {
		_ = c.Close()
		return
	}
	e.mu.Lock()
	e.conns[c], e.conns[up] = true, true
	e.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
	_ = c.Close()
	_ = up.Close()
	e.mu.Lock()
	delete(e.conns, c)
	delete(e.conns, up)
	e.mu.Unlock()
}

// move associates the address with another instance and drops every open connection.
func (e *elasticIP) move(target int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.target = target
	e.dropped += len(e.conns) / 2
	for c := range e.conns {
		_ = c.Close()
	}
	clear(e.conns)
}

// load is bounded traffic through the address: a few clients with keep-alive, as browsers
// are, each asking one of the hosts in turn, paced, until stopped or bounded. They are Go's
// net/http clients, which retry an idempotent request once when a connection that already
// served one fails (net/http's Transport docs): a dropped idle connection costs a reconnect,
// not a failed request; a request whose response was under way fails and is counted.
type load struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	failures   []time.Time
	stop       context.CancelFunc
	wg         sync.WaitGroup
}

// Bounds of the switch-over load: it never runs longer or sends more than this.
const (
	loadClients  = 2
	loadPace     = 100 * time.Millisecond
	loadMax      = 40000
	loadDuration = 15 * time.Minute
)

func startLoad(roots *x509.CertPool, port int, hosts []string) *load {
	ctx, cancel := context.WithTimeout(context.Background(), loadDuration)
	l := &load{stop: cancel}
	for i := 0; i < loadClients; i++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
				DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
					return (&net.Dialer{}).DialContext(ctx, "tcp", "127.0.0.1:"+strconv.Itoa(port))
				}}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
			for n := 0; ctx.Err() == nil && l.ok.Load()+l.failed.Load() < loadMax; n++ {
				l.one(ctx, client, "https://"+hosts[n%len(hosts)]+"/")
				time.Sleep(loadPace)
			}
		}()
	}
	return l
}

func (l *load) one(ctx context.Context, client *http.Client, url string) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := client.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body) // a body cut short is a failed request too
		_ = resp.Body.Close()
	}
	switch {
	case ctx.Err() != nil:
	case err == nil && resp.StatusCode == http.StatusOK:
		l.ok.Add(1)
	default:
		l.failed.Add(1)
		l.mu.Lock()
		l.failures = append(l.failures, time.Now())
		l.mu.Unlock()
	}
}

// finish stops the load and returns its failed and total requests, and the span from the
// first failure to the last.
func (l *load) finish() (failed, total int64, span time.Duration) {
	l.stop()
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.failures) > 1 {
		span = l.failures[len(l.failures)-1].Sub(l.failures[0])
	}
	return l.failed.Load(), l.ok.Load() + l.failed.Load(), span
}
