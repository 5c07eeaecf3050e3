package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultUserAgent is the User-Agent a Client sends unless WithUserAgent
// sets another. The server shows it in the list of a user's devices.
const DefaultUserAgent = "kurir-go-client/1"

// Client calls the kurir HTTP API. Make one with New; the zero value is not
// usable. A Client is immutable once New returns and safe for concurrent use
// by multiple goroutines; derive a Client for another session with
// WithToken rather than changing one.
type Client struct {
	hc *http.Client
	// base is scheme://host[:port][/prefix] without a trailing slash; baseErr
	// is why the URL given to New is unusable, returned by every call.
	base    string
	baseErr error
	token   string
	// Header values are built once and shared, read-only, by every request
	// (net/http never modifies a request's header), which saves allocating
	// them per request on the hot path.
	auth      []string // {"Bearer " + token}; nil without a token
	userAgent []string
	retry     Retry
}

// Option configures a Client made by New.
type Option func(*Client)

// WithHTTPClient makes the Client send its requests with hc, for instance to
// go through a proxy, use custom TLS settings or record traffic. hc should
// not follow redirects (the API never redirects) and should have a Timeout.
// By default a Client has its own http.Client, described at New.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.hc = hc }
}

// WithToken makes the Client authenticate with the bearer token, as returned
// by Client.Login. It is the option form of Client.WithToken.
func WithToken(token string) Option {
	return func(c *Client) { c.setToken(token) }
}

// WithUserAgent sets the User-Agent header of every request (default
// DefaultUserAgent).
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = []string{ua} }
}

// WithRetry sets how Send retries; zero fields of r keep their defaults.
func WithRetry(r Retry) Option {
	return func(c *Client) { c.retry = r }
}

// New returns a Client for the server at baseURL, such as
// "http://127.0.0.1:8080" or "https://chat.example/kurir" (the API lives
// under baseURL + "/api/v1").
//
// Without WithHTTPClient the Client has its own http.Client, tuned for many
// concurrent requests to one server: it keeps up to 1024 idle connections to
// the host, dials with a 5-second timeout and TCP keep-alives, gives each
// request 30 seconds in all, does not follow redirects, and uses no proxy.
//
// New does not fail: an unusable baseURL makes every call return an error
// saying why.
func New(baseURL string, opts ...Option) *Client {
	c := &Client{userAgent: []string{DefaultUserAgent}}
	c.base, c.baseErr = parseBase(baseURL)
	for _, o := range opts {
		o(c)
	}
	if c.hc == nil {
		c.hc = newHTTPClient()
	}
	c.retry = c.retry.withDefaults()
	return c
}

func parseBase(raw string) (string, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	switch {
	case !strings.Contains(raw, "://"):
		return "", fmt.Errorf("client: base URL %q: the scheme is missing, as in http://%s", raw, raw)
	case err != nil:
		return "", fmt.Errorf("client: base URL %q: %w", raw, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("client: base URL %q: the scheme must be http or https", raw)
	case u.Host == "":
		return "", fmt.Errorf("client: base URL %q has no host", raw)
	case u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("client: base URL %q must not have a query or fragment", raw)
	}
	return u.String(), nil
}

func newHTTPClient() *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{
		Transport: &http.Transport{
			DialContext:       dialer.DialContext,
			ForceAttemptHTTP2: true,
			// A load generator sends thousands of concurrent requests to one
			// host; the default of 2 idle connections per host would make
			// most of them dial anew and leave sockets in TIME_WAIT.
			MaxIdleConns:          1024,
			MaxIdleConnsPerHost:   1024,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   5 * time.Second,
			ExpectContinueTimeout: time.Second,
		},
		Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// WithToken returns a Client that authenticates with token and otherwise
// behaves as c, sharing its connections. An empty token makes a Client that
// sends none. c is unchanged.
func (c *Client) WithToken(token string) *Client {
	d := *c
	d.setToken(token)
	return &d
}

func (c *Client) setToken(token string) {
	c.token, c.auth = token, nil
	if token != "" {
		c.auth = []string{"Bearer " + token}
	}
}

// Token returns the bearer token the Client sends, or "" if none.
func (c *Client) Token() string { return c.token }

// CloseIdleConnections closes the keep-alive connections that no request is
// using; the Client stays usable. Clients derived with WithToken share the
// connections, so this affects them too.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// maxResponse bounds a successful response body, and maxProblem an error
// body (of which only the start is needed): a confused or hostile server
// cannot make the client buffer without end.
const (
	maxResponse = 64 << 20
	maxProblem  = 64 << 10
)

// do makes one request: in, if not nil, is sent as the JSON body, and a 2xx
// response body is decoded into out if out is not nil.
func (c *Client) do(ctx context.Context, method, target string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = encodeJSON(in); err != nil {
			return fmt.Errorf("client: %s %s: encode request: %w", method, c.path(target), err)
		}
	}
	return c.exchange(ctx, method, target, body, out)
}

// jsonContentType is the shared, read-only Content-Type header value.
var jsonContentType = []string{"application/json"}

// exchange sends one request with body (nil for none) and reads the
// response: a 2xx body is decoded into out (if not nil), anything else
// becomes an *Error. An error that left the outcome unknown — no response,
// or a response cut short — is a *netError.
func (c *Client) exchange(ctx context.Context, method, target string, body []byte, out any) error {
	if c.baseErr != nil {
		return c.baseErr
	}
	var rd io.Reader
	if body != nil {
		// A *bytes.Reader, not a pooled buffer: the transport may read a
		// request body after Do returns (see http.RoundTripper), and only for
		// in-memory readers does net/http write the header and body in one
		// packet. body is never modified, so retries share it.
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return fmt.Errorf("client: %s %s: %w", method, c.path(target), err)
	}
	req.Header["User-Agent"] = c.userAgent
	if c.auth != nil {
		req.Header["Authorization"] = c.auth
	}
	if body != nil {
		req.Header["Content-Type"] = jsonContentType
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return &netError{err}
	}
	return c.readResponse(req, resp, out)
}

func (c *Client) readResponse(req *http.Request, resp *http.Response, out any) error {
	defer resp.Body.Close()
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	limit := maxResponse
	if !ok {
		limit = maxProblem
	}
	bp := getBuffer()
	defer putBuffer(bp)
	b, err := readAll((*bp)[:0], resp.Body, limit, resp.ContentLength)
	*bp = b
	if !ok {
		// Even a truncated or unreadable body leaves the status to report.
		return newError(req, resp, b)
	}
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return fmt.Errorf("client: %s %s: %w", req.Method, req.URL.Path, err)
		}
		return &netError{fmt.Errorf("client: %s %s: read response: %w", req.Method, req.URL.Path, err)}
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("client: %s %s: decode %d response %q: %w", req.Method, req.URL.Path, resp.StatusCode, snippet(b), err)
	}
	return nil
}

// path returns target without the base, for messages.
func (c *Client) path(target string) string { return strings.TrimPrefix(target, c.base) }

// netError is a failure that left a request's outcome unknown: the server
// may or may not have acted on it. Only such failures and some statuses are
// worth retrying.
type netError struct{ err error }

func (e *netError) Error() string { return e.err.Error() }
func (e *netError) Unwrap() error { return e.err }

var errTooLarge = errors.New("response body too large")

// readAll appends r's content to b until EOF and returns it. It reads at most
// limit bytes, returning errTooLarge beyond; hint, if positive, is the
// expected length (Content-Length), allocated up front.
func readAll(b []byte, r io.Reader, limit int, hint int64) ([]byte, error) {
	if hint > 0 && hint < int64(limit) {
		// One more byte than announced, so that EOF is read without growing.
		b = slices.Grow(b, int(hint)+1)
	}
	for {
		if len(b) == cap(b) {
			b = slices.Grow(b, 512)
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if len(b) > limit {
			return b[:limit], errTooLarge
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// Buffers and encoders are pooled because every request needs one for a
// moment: a response buffer until its JSON is decoded, an encoder until its
// output is copied. The pools are caches; nothing depends on their content.
var (
	bufferPool = sync.Pool{New: func() any {
		b := make([]byte, 0, 4<<10)
		return &b
	}}
	encoderPool = sync.Pool{New: func() any {
		e := &encoder{}
		e.enc = json.NewEncoder(&e.buf)
		e.enc.SetEscapeHTML(false)
		return e
	}}
)

// maxPooled is the largest buffer kept for reuse; a rare huge response
// should not pin its memory for the life of the process.
const maxPooled = 1 << 20

func getBuffer() *[]byte { return bufferPool.Get().(*[]byte) }

func putBuffer(b *[]byte) {
	if cap(*b) <= maxPooled {
		*b = (*b)[:0]
		bufferPool.Put(b)
	}
}

type encoder struct {
	buf bytes.Buffer
	enc *json.Encoder
	// send holds the body of a Send while it is encoded, so that passing it
	// to the encoder does not move a copy to the heap.
	send SendParams
}

// encodeJSON returns v as JSON, in a slice of exactly its length that the
// caller owns.
func encodeJSON(v any) ([]byte, error) {
	e := encoderPool.Get().(*encoder)
	defer e.release()
	return e.encode(v)
}

// encodeSend is encodeJSON for the hot path.
func encodeSend(p *SendParams) ([]byte, error) {
	e := encoderPool.Get().(*encoder)
	defer e.release()
	e.send = *p
	return e.encode(&e.send)
}

func (e *encoder) encode(v any) ([]byte, error) {
	if err := e.enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.Clone(bytes.TrimSuffix(e.buf.Bytes(), []byte("\n"))), nil
}

func (e *encoder) release() {
	if e.buf.Cap() <= maxPooled {
		e.buf.Reset()
		e.send = SendParams{}
		encoderPool.Put(e)
	}
}

// The URL helpers build a request URL in a stack buffer and allocate only
// the final string: base + "/api/v1" + path.
func (c *Client) appendURL(dst []byte, path string) []byte {
	dst = append(dst, c.base...)
	dst = append(dst, "/api/v1"...)
	return append(dst, path...)
}

// url returns the URL of path, in which each '*' stands for the next of ids.
func (c *Client) url(path string, ids ...int64) string {
	var a [256]byte
	b := c.appendURL(a[:0], "")
	for i := 0; i < len(path); i++ {
		if path[i] == '*' && len(ids) > 0 {
			b = strconv.AppendInt(b, ids[0], 10)
			ids = ids[1:]
			continue
		}
		b = append(b, path[i])
	}
	return string(b)
}

// urlSegment returns the URL of prefix + the escaped segment + suffix.
func (c *Client) urlSegment(prefix, segment, suffix string) string {
	var a [256]byte
	b := c.appendURL(a[:0], prefix)
	b = append(b, url.PathEscape(segment)...)
	return string(append(b, suffix...))
}

// query is a URL's query string under construction.
type query struct {
	b []byte
}

func (q *query) add(name, value string) {
	if len(q.b) == 0 {
		q.b = append(q.b, '?')
	} else {
		q.b = append(q.b, '&')
	}
	q.b = append(q.b, name...)
	q.b = append(q.b, '=')
	q.b = append(q.b, url.QueryEscape(value)...)
}

func (q *query) addInt(name string, v int64) {
	q.add(name, strconv.FormatInt(v, 10))
}
