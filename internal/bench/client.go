package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httputil"
	"strconv"
	"strings"
	"time"
)

// client is the load generator's HTTP/1.1 client for one API key. It
// shares the machine's two cores with the server and PostgreSQL, so it is
// kept as lean as wrk-style load generators are: each request is written
// in one piece on an idle persistent connection, and the answer is read on
// it by the calling goroutine. Go's standard client spent about 35 µs of
// CPU per request here (a reader and a writer goroutine per connection, a
// hand-off between them, header maps), which the API scenario would have
// charged to the server under test.
type client struct {
	key, host string
	// vhost is the Host header, for a server that picks the tenant by
	// host; the dialled address when empty.
	vhost string
	idle  chan *clientConn
}

type clientConn struct {
	nc  net.Conn
	br  *bufio.Reader
	req bytes.Buffer
}

// newClient returns a client of base (http://host:port) keeping up to
// conns idle connections.
func newClient(base, key string, conns int) *client {
	host := strings.TrimSuffix(strings.TrimPrefix(base, "http://"), "/")
	return &client{key: key, host: host, idle: make(chan *clientConn, conns+4)}
}

// conn returns an idle connection or dials a new one.
func (c *client) conn(ctx context.Context) (*clientConn, error) {
	select {
	case cc := <-c.idle:
		return cc, nil
	default:
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", c.host)
	if err != nil {
		return nil, err
	}
	return &clientConn{nc: nc, br: bufio.NewReaderSize(nc, 16<<10)}, nil
}

// do sends a request and reads the whole answer; any status but want is
// an error.
func (c *client) do(ctx context.Context, method, path string, body io.Reader, want int) ([]byte, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = io.ReadAll(body); err != nil {
			return nil, err
		}
	}
	cc, err := c.conn(ctx)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(time.Minute)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	cc.nc.SetDeadline(deadline)
	// A cancelled run (Ctrl-C) interrupts a request in flight.
	stop := context.AfterFunc(ctx, func() { cc.nc.SetDeadline(time.Now()) })
	data, status, keep, err := cc.roundTrip(c, method, path, payload)
	if !stop() {
		keep = false // the deadline may have fired: do not reuse
	}
	if err != nil {
		cc.nc.Close()
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if !keep {
		cc.nc.Close()
	} else {
		select {
		case c.idle <- cc:
		default:
			cc.nc.Close()
		}
	}
	if status != want {
		return data, fmt.Errorf("%s %s: status %d: %.200s", method, path, status, data)
	}
	return data, nil
}

// roundTrip writes one request and reads its answer, and reports whether
// the connection may carry another request.
func (cc *clientConn) roundTrip(c *client, method, path string, payload []byte) (data []byte, status int, keep bool, err error) {
	b := &cc.req
	b.Reset()
	host := c.host
	if c.vhost != "" {
		host = c.vhost
	}
	fmt.Fprintf(b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, host)
	if c.key != "" {
		fmt.Fprintf(b, "Authorization: Bearer %s\r\n", c.key)
	}
	if payload != nil {
		fmt.Fprintf(b, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(payload))
	}
	b.WriteString("\r\n")
	b.Write(payload)
	if _, err := cc.nc.Write(b.Bytes()); err != nil {
		return nil, 0, false, err
	}
	line, err := cc.br.ReadSlice('\n')
	if err != nil {
		return nil, 0, false, err
	}
	// HTTP/1.1 200 OK
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return nil, 0, false, fmt.Errorf("bench: bad status line %q", line)
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return nil, 0, false, fmt.Errorf("bench: bad status line %q", line)
	}
	length, chunked := -1, false
	keep = true
	for {
		line, err := cc.br.ReadSlice('\n')
		if err != nil {
			return nil, 0, false, err
		}
		h := bytes.TrimRight(line, "\r\n")
		if len(h) == 0 {
			break
		}
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return nil, 0, false, fmt.Errorf("bench: bad header line %q", h)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return nil, 0, false, fmt.Errorf("bench: bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			keep = !bytes.EqualFold(value, []byte("close"))
		}
	}
	switch {
	case method == "HEAD" || status == 204 || status == 304:
		return nil, status, keep, nil
	case chunked:
		data, err = io.ReadAll(httputil.NewChunkedReader(cc.br))
		if err == nil {
			// The chunked body ends with an empty trailer line.
			_, err = cc.br.ReadSlice('\n')
		}
	case length >= 0:
		data = make([]byte, length)
		_, err = io.ReadFull(cc.br, data)
	default:
		return nil, 0, false, errors.New("bench: an answer without a length")
	}
	return data, status, keep, err
}
