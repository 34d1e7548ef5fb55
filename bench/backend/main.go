// Command backend is the trivial service the edge benchmark proxies to: a 100-byte 200 on
// every path, listening on each address given. With no address it listens on $PORT, as a
// service container of the service contract does; the boot tests' images run it that way with
// BACKEND_NAME set, and it then names itself and echoes the forwarding headers it received, so
// a test can tell which container answered and what HAProxy passed on. Named, it also answers
// /.secret/<NAME> with the SHA-256 of /run/secrets/<NAME> (a test sees that a secret arrived, not
// its value) and /.db with what the database behind /run/secrets/DATABASE_URL says its user
// and database are. With neither an address nor PORT it runs as a worker: it says so and waits.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"log"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// secretDir is where a service container finds its secrets (the service contract).
const secretDir = "/run/secrets"

func main() {
	body := []byte(strings.Repeat("x", 99) + "\n")
	name := os.Getenv("BACKEND_NAME")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if name != "" {
			w.Header().Set("X-Backend", name)
			for _, k := range []string{"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Port"} {
				if v := r.Header.Values(k); len(v) > 0 {
					w.Header().Set("X-Echo-"+strings.TrimPrefix(k, "X-"), strings.Join(v, ", "))
				}
			}
		}
		if name != "" && strings.HasPrefix(r.URL.Path, "/.secret/") {
			raw, err := os.ReadFile(filepath.Join(secretDir, filepath.Base(r.URL.Path)))
			if err != nil {
				http.Error(w, "no such secret", http.StatusNotFound)
				return
			}
			sum := sha256.Sum256(raw)
			_, _ = w.Write([]byte(hex.EncodeToString(sum[:]) + "\n"))
			return
		}
		if name != "" && r.URL.Path == "/.db" {
			dsn, err := os.ReadFile(filepath.Join(secretDir, "DATABASE_URL"))
			if err != nil {
				http.Error(w, "no DATABASE_URL", http.StatusNotFound)
				return
			}
			who, err := queryOne(string(dsn), "SELECT current_user || '@' || current_database() || ' ' || (SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid())")
			if err != nil {
				http.Error(w, "database: "+err.Error(), http.StatusBadGateway)
				return
			}
			_, _ = w.Write([]byte(who + "\n"))
			return
		}
		_, _ = w.Write(body)
	})
	addrs := os.Args[1:]
	if len(addrs) == 0 && os.Getenv("PORT") != "" {
		addrs = []string{":" + os.Getenv("PORT")}
	}
	if len(addrs) == 0 && name != "" {
		// A bare select{} would be Go's "all goroutines are asleep": wait for the stop signal.
		log.Printf("worker %s running", name)
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
		<-stop
		return
	}
	if len(addrs) == 0 {
		log.Fatal("usage: backend ADDR... (or PORT in the environment)")
	}
	for _, addr := range addrs[1:] {
		go func() {
			log.Fatal((&http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}).ListenAndServe())
		}()
	}
	log.Fatal((&http.Server{Addr: addrs[0], Handler: h, ReadHeaderTimeout: 5 * time.Second}).ListenAndServe())
}
