// Command backend is the trivial service the edge benchmark proxies to: a 100-byte 200 on
// every path, listening on each address given.
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
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(body)
	})
	if len(os.Args) < 2 {
		log.Fatal("usage: backend ADDR...")
	}
	for _, addr := range os.Args[2:] {
		go func() {
			log.Fatal((&http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}).ListenAndServe())
		}()
	}
	log.Fatal((&http.Server{Addr: os.Args[1], Handler: h, ReadHeaderTimeout: 5 * time.Second}).ListenAndServe())
}
