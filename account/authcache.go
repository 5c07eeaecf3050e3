package account

import (
	"sync"
	"time"
)

// Authenticate runs on every API request, and its query was a tenth of the
// server's CPU under load. authCache keeps the answer for a token for
// authCacheTTL. Every change this node makes to sessions or accounts clears
// it at once; a change made elsewhere (another node, or "kurir admin" in its
// own process) takes effect within authCacheTTL.
const (
	authCacheTTL = 2 * time.Second
	authCacheMax = 100_000
)

type authEntry struct {
	p       Principal
	expires time.Time
}

type authCache struct {
	mu  sync.Mutex
	m   map[string]authEntry // by token hash
	gen uint64               // counts clears
}

// generation returns a value to pass to put, taken before reading what
// will be put, so that an answer read before a clear is never kept after it.
func (c *authCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *authCache) get(hash string, now time.Time) (Principal, bool) {
	c.mu.Lock()
	e, ok := c.m[hash]
	c.mu.Unlock()
	if !ok || !now.Before(e.expires) {
		return Principal{}, false
	}
	return e.p, true
}

func (c *authCache) put(gen uint64, hash string, p Principal, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return // something changed while it was read
	}
	if c.m == nil || len(c.m) >= authCacheMax {
		c.m = make(map[string]authEntry)
	}
	c.m[hash] = authEntry{p: p, expires: now.Add(authCacheTTL)}
}

// clear forgets every answer; call it after any change to a session or an
// account has committed.
func (c *authCache) clear() {
	c.mu.Lock()
	c.m = nil
	c.gen++
	c.mu.Unlock()
}
