package mail

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// smtpServer is a minimal SMTP server (RFC 5321) for tests, on 127.0.0.1:
// enough of the protocol for one message per connection. It records each
// session and hands it to the test when the connection ends.
type smtpServer struct {
	// tls, when set, makes the server offer STARTTLS with it.
	tls *tls.Config
	// auth, when set, makes the server offer AUTH PLAIN and accept the
	// response "\x00user\x00password" equal to it; only over TLS unless
	// authInClear.
	auth        string
	authInClear bool
	// rcptReply answers RCPT TO; "250 2.1.5 OK" when empty.
	rcptReply string
	// silent servers accept connections and never say a word.
	silent bool

	addr     string
	ln       net.Listener
	wg       sync.WaitGroup
	sessions chan *session

	mu    sync.Mutex
	conns []net.Conn
}

// session is what one client did.
type session struct {
	// cmds are the command lines in order, each prefixed "TLS " once the
	// connection is encrypted.
	cmds []string
	// auth is the decoded AUTH PLAIN response.
	auth string
	// data is the message after DATA, dot-stuffing undone, lines ending "\n".
	data string
}

// startServer starts srv on a random loopback port; it stops at the end of
// the test.
func startServer(t *testing.T, srv *smtpServer) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.ln = ln
	srv.addr = ln.Addr().String()
	srv.sessions = make(chan *session, 16)
	srv.wg.Add(1)
	go func() {
		defer srv.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			srv.mu.Lock()
			srv.conns = append(srv.conns, conn)
			srv.mu.Unlock()
			srv.wg.Add(1)
			go func() {
				defer srv.wg.Done()
				srv.sessions <- srv.serve(conn)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		srv.mu.Lock()
		for _, c := range srv.conns {
			c.Close()
		}
		srv.mu.Unlock()
		srv.wg.Wait()
	})
	return srv
}

// next returns the next finished session.
func (srv *smtpServer) next(t *testing.T) *session {
	t.Helper()
	select {
	case s := <-srv.sessions:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no SMTP session ended within 10 s")
		return nil
	}
}

// serve speaks SMTP on conn until QUIT or the connection ends, and closes it.
func (srv *smtpServer) serve(conn net.Conn) *session {
	s := &session{}
	defer func() { conn.Close() }()
	if srv.silent {
		io.Copy(io.Discard, conn)
		return s
	}
	tc := textproto.NewConn(conn)
	secure := false
	reply := func(lines ...string) { // the last line is the final one
		for i, l := range lines {
			sep := "-"
			if i == len(lines)-1 {
				sep = " "
			}
			tc.PrintfLine("%s%s%s", l[:3], sep, l[4:])
		}
	}
	reply("220 test.example ESMTP")
	for {
		line, err := tc.ReadLine()
		if err != nil {
			return s
		}
		if secure {
			s.cmds = append(s.cmds, "TLS "+line)
		} else {
			s.cmds = append(s.cmds, line)
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			ext := []string{"250 test.example", "250 8BITMIME"}
			if srv.tls != nil && !secure {
				ext = append(ext, "250 STARTTLS")
			}
			if srv.auth != "" && (secure || srv.authInClear) {
				ext = append(ext, "250 AUTH LOGIN PLAIN")
			}
			reply(ext...)
		case "STARTTLS":
			reply("220 2.0.0 ready")
			tlsConn := tls.Server(conn, srv.tls)
			if err := tlsConn.Handshake(); err != nil {
				s.cmds = append(s.cmds, "handshake failed")
				return s
			}
			conn, tc, secure = tlsConn, textproto.NewConn(tlsConn), true
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			dec, err := base64.StdEncoding.DecodeString(resp)
			s.auth = string(dec)
			if strings.ToUpper(mech) == "PLAIN" && err == nil && s.auth == srv.auth {
				reply("235 2.7.0 authenticated")
			} else {
				reply("535 5.7.8 authentication credentials invalid")
			}
		case "MAIL", "RSET", "NOOP":
			reply("250 2.1.0 OK")
		case "RCPT":
			if srv.rcptReply != "" {
				reply(srv.rcptReply)
			} else {
				reply("250 2.1.5 OK")
			}
		case "DATA":
			reply("354 end with .")
			b, err := tc.ReadDotBytes()
			if err != nil {
				return s
			}
			s.data = string(b)
			reply("250 2.0.0 queued")
		case "QUIT":
			reply("221 2.0.0 bye")
			return s
		default:
			reply("502 5.5.2 not implemented")
		}
	}
}

// selfSigned returns a server certificate for 127.0.0.1 and mail.example.org
// and a pool that trusts it.
func selfSigned(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mail.example.org"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{"mail.example.org"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}
