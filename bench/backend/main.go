// Command backend is the trivial service the edge benchmark proxies to: a 100-byte 200 on
// every path, listening on each address given. With no address it listens on $PORT, as a
// service container of the service contract does; the boot tests' images run it that way with
// BACKEND_NAME set, and it then names itself and echoes the forwarding headers it received, so
// a test can tell which container answered and what HAProxy passed on.
package main

import (
	"log"
	"net/http"
	"os"
	"strings"
	"time"
)

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
		_, _ = w.Write(body)
	})
	addrs := os.Args[1:]
	if len(addrs) == 0 && os.Getenv("PORT") != "" {
		addrs = []string{":" + os.Getenv("PORT")}
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
