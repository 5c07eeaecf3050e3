package httpapi

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"kurir"
	"kurir/jurisdiction"
	"kurir/messaging"
	"kurir/moderation"
)

// This file places each request in a country, for the law of the place
// (kurir/jurisdiction): the country of the address it came from, and, once
// the caller is known, the country their account declares. Both go in the
// request's context, where messaging reads them to withhold what is
// restricted there; a withdrawn market refuses the caller outright, and a
// restricted one the features it turned off.

type withheldView struct {
	Country  string `json:"country" jsonschema:"description=The reader's country (ISO 3166-1 alpha-2) where it is withheld."`
	Category string `json:"category,omitempty" jsonschema:"description=The moderation category\\, such as hate_speech."`
	Reason   string `json:"reason"`
	LegalRef string `json:"legal_reference,omitempty" jsonschema:"description=The law that requires it."`
}

func newWithheldView(w *messaging.Withholding) *withheldView {
	if w == nil {
		return nil
	}
	return &withheldView{Country: w.Country, Category: w.Category, Reason: w.Reason, LegalRef: w.LegalRef}
}

// keyClientIP holds the address a request came from, as located decided.
const keyClientIP ctxKey = 100

// clientIP is the address a request came from: the socket's, or, behind a
// proxy the operator trusts (Deps.TrustedProxies), the one the proxy names.
func clientIP(r *http.Request) string {
	if ip, ok := r.Context().Value(keyClientIP).(string); ok {
		return ip
	}
	return socketIP(r)
}

func socketIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// realIP works out the client's address. A request from a trusted proxy is
// believed about the address before it: the last address in the header
// that is not itself a trusted proxy (X-Forwarded-For lists them in order,
// and only the end of the list, which our proxies wrote, can be trusted).
func realIP(r *http.Request, proxies []netip.Prefix, header string) netip.Addr {
	addr, err := netip.ParseAddr(socketIP(r))
	if err != nil {
		return netip.Addr{}
	}
	addr = addr.Unmap()
	if !trusted(addr, proxies) {
		return addr
	}
	var hops []string
	for _, v := range r.Header.Values(header) {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a garbled hop: believe nothing before it
		}
		addr = a.Unmap()
		if !trusted(addr, proxies) {
			break
		}
	}
	return addr
}

func trusted(a netip.Addr, proxies []netip.Prefix) bool {
	for _, p := range proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// lang is the language a request's reader asked for, of those kurir writes.
func lang(r *http.Request) string { return moderation.PickLanguage(r.Header.Get("Accept-Language")) }

// located puts the request's client address and network country in its
// context.
func (rt *router) located(next http.Handler) http.Handler {
	header := rt.d.ClientIPHeader
	if header == "" {
		header = "X-Forwarded-For"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := realIP(r, rt.d.TrustedProxies, header)
		ctx := r.Context()
		if ip.IsValid() {
			ctx = context.WithValue(ctx, keyClientIP, ip.String())
		}
		if rt.d.Jurisdiction != nil {
			ctx = kurir.WithLocation(ctx, rt.d.Jurisdiction.Locate(ip, ""))
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// admitted adds the caller's declared country to the request's location
// and refuses a caller in a withdrawn market. It runs after authentication.
func (rt *router) admitted(next http.Handler) http.Handler {
	j := rt.d.Jurisdiction
	if j == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loc := kurir.LocationFrom(r.Context())
		loc.Declared = principal(r.Context()).User.Country
		if err := j.Admit(loc, lang(r)); err != nil {
			writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(kurir.WithLocation(r.Context(), loc)))
	})
}

// allow returns nil if the request's caller may use feature where they
// are, and otherwise the refusal.
func (rt *router) allow(r *http.Request, f jurisdiction.Feature) error {
	if rt.d.Jurisdiction == nil {
		return nil
	}
	return rt.d.Jurisdiction.Allow(kurir.LocationFrom(r.Context()), f, lang(r))
}

// feature refuses the operation where the market has turned f off.
func (rt *router) feature(f jurisdiction.Feature, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := rt.allow(r, f); err != nil {
			writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}
