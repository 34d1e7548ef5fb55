package main

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"
)

// queryOne connects to the PostgreSQL a postgresql:// URL names, as libpq does for
// sslmode=require (TLS first, the server's certificate not verified), authenticates with the
// URL's password (cleartext inside TLS, pg_hba's "password" method) and runs one query,
// returning the first column of its first row. It speaks protocol 3.0 directly
// (https://www.postgresql.org/docs/current/protocol-flow.html): the boot tests' backend image
// is one static binary with no client library in it.
func queryOne(rawURL, query string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || (u.Scheme != "postgresql" && u.Scheme != "postgres") {
		return "", errors.New("not a postgresql:// URL")
	}
	if u.Query().Get("sslmode") != "require" {
		return "", errors.New("the URL does not require TLS")
	}
	password, _ := u.User.Password()
	raw, err := net.DialTimeout("tcp", u.Host, 10*time.Second)
	if err != nil {
		return "", err
	}
	defer func() { _ = raw.Close() }()
	_ = raw.SetDeadline(time.Now().Add(30 * time.Second))
	// SSLRequest: length 8, code 80877103; the server answers S to go on in TLS.
	if _, err := raw.Write([]byte{0, 0, 0, 8, 4, 210, 22, 47}); err != nil {
		return "", err
	}
	yes := make([]byte, 1)
	if _, err := io.ReadFull(raw, yes); err != nil || yes[0] != 'S' {
		return "", errors.New("the server refused TLS")
	}
	host, _, _ := net.SplitHostPort(u.Host)
	conn := tls.Client(raw, &tls.Config{ServerName: host, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}) //nolint:gosec // sslmode=require does not verify, as libpq
	r := bufio.NewReader(conn)
	var startup []byte
	startup = binary.BigEndian.AppendUint32(startup, 196608) // protocol 3.0
	for _, kv := range [][2]string{{"user", u.User.Username()}, {"database", strings.TrimPrefix(u.Path, "/")}} {
		startup = append(append(append(append(startup, kv[0]...), 0), kv[1]...), 0)
	}
	startup = append(startup, 0)
	if err := send(conn, 0, startup); err != nil {
		return "", err
	}
	for {
		kind, body, err := receive(r)
		if err != nil {
			return "", err
		}
		switch kind {
		case 'R':
			switch code := binary.BigEndian.Uint32(body); code {
			case 0: // AuthenticationOk
			case 3: // AuthenticationCleartextPassword
				if err := send(conn, 'p', append([]byte(password), 0)); err != nil {
					return "", err
				}
			default:
				return "", fmt.Errorf("authentication method %d is not spoken here", code)
			}
		case 'E':
			return "", fmt.Errorf("server error: %s", fields(body))
		case 'Z':
			return run(conn, r, query)
		}
	}
}

// run sends a simple query and reads its first value.
func run(conn io.Writer, r *bufio.Reader, query string) (string, error) {
	if err := send(conn, 'Q', append([]byte(query), 0)); err != nil {
		return "", err
	}
	value, got := "", false
	for {
		kind, body, err := receive(r)
		if err != nil {
			return "", err
		}
		switch kind {
		case 'D':
			if !got && len(body) >= 6 {
				n := int32(binary.BigEndian.Uint32(body[2:6]))
				if n >= 0 && int(n) <= len(body)-6 {
					value, got = string(body[6:6+n]), true
				}
			}
		case 'E':
			return "", fmt.Errorf("server error: %s", fields(body))
		case 'Z':
			if !got {
				return "", errors.New("no row")
			}
			return value, nil
		}
	}
}

func send(w io.Writer, kind byte, body []byte) error {
	var msg []byte
	if kind != 0 {
		msg = append(msg, kind)
	}
	msg = binary.BigEndian.AppendUint32(msg, uint32(len(body)+4))
	_, err := w.Write(append(msg, body...))
	return err
}

func receive(r *bufio.Reader) (byte, []byte, error) {
	head := make([]byte, 5)
	if _, err := io.ReadFull(r, head); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(head[1:])
	if n < 4 || n > 1<<20 {
		return 0, nil, errors.New("bad message length")
	}
	body := make([]byte, n-4)
	_, err := io.ReadFull(r, body)
	return head[0], body, err
}

// fields renders an ErrorResponse's severity, code and message.
func fields(body []byte) string {
	var out []string
	for _, f := range strings.Split(string(body), "\x00") {
		if len(f) > 1 && strings.ContainsRune("SCM", rune(f[0])) {
			out = append(out, f[1:])
		}
	}
	return strings.Join(out, " ")
}
