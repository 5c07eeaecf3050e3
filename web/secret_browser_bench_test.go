package web_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserSecretBench measures the web client's secret-chat code
// (static/secret-*.js) in headless Chromium: the same measurements as
// jstest/secret_bench.mjs makes under Node, each the median of 5 rounds of
// many operations timed with performance.now(). The modules are imported by
// a page of the app's origin from where the app serves them, as the app
// itself loads them. It is a benchmark, not a check, so it runs only on
// request (it takes 10 to 20 seconds):
//
//	KURIR_BROWSER_BENCH=1 go test ./web -run TestBrowserSecretBench -v
func TestBrowserSecretBench(t *testing.T) {
	if os.Getenv("KURIR_BROWSER_BENCH") != "1" {
		t.Skip("a benchmark: run it with KURIR_BROWSER_BENCH=1 go test ./web -run TestBrowserSecretBench -v")
	}
	b := newBrowser(t)
	s := newServer(t, serverOptions{})
	pg := b.page(t, 1100, 720)
	// The 404 page: of the app's origin, with the build's asset prefix in
	// its stylesheet link, and no script of its own running beside the
	// benchmark.
	do(t, pg, "open a page of the app", chromedp.Navigate(s.URL+"/404"))

	info := browserBenchEval[struct {
		Base      string   `json:"base"`
		UserAgent string   `json:"userAgent"`
		Isolated  bool     `json:"isolated"`
		Names     []string `json:"names"`
	}](t, pg, "import the modules and prepare", secretBenchJS)
	if !strings.HasPrefix(info.Base, "/assets/") {
		t.Fatalf("asset prefix %q, want /assets/<version>", info.Base)
	}
	t.Logf("%s; modules from %s; crossOriginIsolated %v", info.UserAgent, info.Base, info.Isolated)

	type result struct {
		Name  string  `json:"name"`
		MS    float64 `json:"ms"`
		Bytes int     `json:"bytes"`
	}
	start := time.Now()
	var results []result
	for i, name := range info.Names {
		r := browserBenchEval[result](t, pg, name, fmt.Sprintf("kurirBench.run(%d)", i))
		if r.MS <= 0 {
			t.Fatalf("%s: %v ms", name, r.MS)
		}
		results = append(results, r)
	}
	var tab strings.Builder
	fmt.Fprintf(&tab, "median of 5 rounds each, in %.1f s\n", time.Since(start).Seconds())
	fmt.Fprintf(&tab, "| %-66s | %9s | %7s | %9s |\n", "measurement", "median", "op/s", "MB/s")
	fmt.Fprintf(&tab, "|%s|%s|%s|%s|\n", strings.Repeat("-", 68), strings.Repeat("-", 11), strings.Repeat("-", 9), strings.Repeat("-", 11))
	for _, r := range results {
		rate := ""
		if r.Bytes > 0 {
			rate = fmt.Sprintf("%.1f", float64(r.Bytes)/(r.MS/1000)/1e6)
		}
		fmt.Fprintf(&tab, "| %-66s | %9s | %7.0f | %9s |\n", r.Name, browserBenchDuration(r.MS), 1000/r.MS, rate)
	}
	t.Logf("secret chats in Chromium:\n%s", tab.String())
}

// browserBenchEval returns the value of expr, which may be a promise,
// allowing a minute: one measurement of the benchmark takes a few seconds,
// more on a busy machine.
func browserBenchEval[T any](t *testing.T, ctx context.Context, what, expr string) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(tctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// browserBenchDuration formats a time in milliseconds as µs or ms with
// three significant digits or so.
func browserBenchDuration(ms float64) string {
	switch {
	case ms >= 100:
		return fmt.Sprintf("%.0f ms", ms)
	case ms >= 10:
		return fmt.Sprintf("%.1f ms", ms)
	case ms >= 1:
		return fmt.Sprintf("%.2f ms", ms)
	default:
		return fmt.Sprintf("%.0f µs", ms*1000)
	}
}

// secretBenchJS imports the secret-chat modules from the app's asset prefix
// and sets up globalThis.kurirBench: run(i) makes measurement i (in order:
// later ones use the state earlier ones left) and returns its name, its
// median time per operation in milliseconds and the bytes one operation
// handles (0 if not a size). The measurements are those of
// jstest/secret_bench.mjs, with the same counts.
const secretBenchJS = `(async () => {
  const base = new URL(document.querySelector('link[rel=stylesheet][href$="/style.css"]').href).pathname.replace(/\/style\.css$/, '');
  const [P, F, Y] = await Promise.all(['secret-protocol.js', 'secret-franking.js', 'secret-payload.js'].map((m) => import(base + '/' + m)));
  const rounds = 5;
  const utf8 = new TextEncoder();

  async function median(n, fn) {
    const per = [];
    for (let r = 0; r < rounds; r++) {
      const start = performance.now();
      await fn(n);
      per.push((performance.now() - start) / n);
    }
    per.sort((a, b) => a - b);
    return per[Math.floor(per.length / 2)];
  }

  const alice = await P.generateIdentityKey();
  const bob = await P.generateIdentityKey();
  const spk = await P.generateSignedPreKey(1, bob);
  const opk = await P.generateOneTimePreKey(2);
  const bundle = P.makeBundle(bob, spk, opk);
  const { initialHeader } = await P.initiate(alice, bundle);

  async function pair() {
    const { session: a, initialHeader } = await P.initiate(alice, bundle);
    const b = await P.respond(bob, spk, opk, initialHeader);
    await b.decrypt(await a.encrypt(utf8.encode('hello')));
    return [a, b];
  }

  const cases = [];
  const add = (name, run, bytes = 0) => cases.push({ name, run, bytes });

  add('keys: identity + signed prekey + one-time prekey', () => median(50, async (n) => {
    for (let i = 0; i < n; i++) {
      const id = await P.generateIdentityKey();
      await P.generateSignedPreKey(1, id);
      await P.generateOneTimePreKey(1);
    }
  }));
  add('X3DH: initiate (verify bundle, 4 DH, first ratchet step)', () => median(50, async (n) => {
    for (let i = 0; i < n; i++) await P.initiate(alice, bundle);
  }));
  add('X3DH: respond (4 DH)', () => median(50, async (n) => {
    for (let i = 0; i < n; i++) await P.respond(bob, spk, opk, initialHeader);
  }));
  add('X3DH: session set-up, both sides + first message', () => median(50, async (n) => {
    for (let i = 0; i < n; i++) await pair();
  }));
  for (const size of [100, 4096, 65536]) {
    add('message: encrypt + decrypt, ' + size + ' B, same chain', async () => {
      const [a, b] = await pair();
      const pt = new Uint8Array(size);
      return median(500, async (n) => {
        for (let i = 0; i < n; i++) await b.decrypt(await a.encrypt(pt));
      });
    }, size);
  }
  add('message: encrypt + decrypt, 100 B, ratchet step each (ping-pong)', async () => {
    const [a, b] = await pair();
    const pt = new Uint8Array(100);
    return median(200, async (n) => {
      for (let i = 0; i < n; i++) {
        const [from, to] = i % 2 ? [b, a] : [a, b];
        await to.decrypt(await from.encrypt(pt));
      }
    });
  });
  add('text message: payload + commit + encrypt + envelope, and back', async () => {
    const [a, b] = await pair();
    return median(300, async (n) => {
      for (let i = 0; i < n; i++) {
        const frankingKey = F.newFrankingKey();
        const text = 'a secret-chat message of ordinary length, about a hundred bytes long, give or take';
        const c = await F.commit(frankingKey, utf8.encode(text));
        const body = Y.encodeEnvelope({ message: await a.encrypt(Y.encodePayload({ frankingKey, sentAt: Date.now(), text }), c) });
        const p = Y.decodePayload(await b.decrypt(Y.decodeEnvelope(body).message, c));
        await F.openCommitment(p.frankingKey, utf8.encode(p.text), c);
      }
    });
  });

  // Out of order: each round a fresh session whose last of 1000 messages is
  // delivered first, so that 999 keys are derived and kept; only that
  // decrypt is timed. The last round's receiver is the state of the
  // measurements after it.
  let ahead, msgs, state;
  add('out of order: decrypt 999 ahead (derive + store 999 keys)', async () => {
    const per = [];
    for (let r = 0; r < rounds; r++) {
      const [a, b] = await pair();
      const m = [];
      for (let i = 0; i < 1000; i++) m.push(await a.encrypt(new Uint8Array(10)));
      const start = performance.now();
      await b.decrypt(m[999]);
      per.push(performance.now() - start);
      [ahead, msgs] = [b, m];
    }
    state = ahead.serialize();
    per.sort((x, y) => x - y);
    return per[Math.floor(per.length / 2)];
  });
  add(() => 'state: serialize, ' + state.length + ' B (999 skipped keys)', () => median(200, async (n) => {
    for (let i = 0; i < n; i++) ahead.serialize();
  }));
  add(() => 'state: deserialize, ' + state.length + ' B', () => median(200, async (n) => {
    for (let i = 0; i < n; i++) await P.Session.deserialize(state);
  }));
  let next = 0; // each round takes the next 100 of the 999 skipped messages
  add('out of order: decrypt from a skipped key (store of 999)', () => median(100, async (n) => {
    for (let i = 0; i < n; i++) await ahead.decrypt(msgs[next++]);
  }));
  add('safety number (2 × 5201 SHA-512)', () => median(3, async (n) => {
    for (let i = 0; i < n; i++) {
      await P.safetyNumber('alice@kurir.example', P.publicIdentity(alice), 'bob@kurir.example', P.publicIdentity(bob));
    }
  }));

  globalThis.kurirBench = {
    async run(i) {
      const c = cases[i];
      const ms = await c.run();
      return { name: typeof c.name === 'function' ? c.name() : c.name, ms, bytes: c.bytes };
    },
  };
  return { base, userAgent: navigator.userAgent, isolated: globalThis.crossOriginIsolated === true, names: cases.map((c, i) => typeof c.name === 'function' ? 'measurement ' + i : c.name) };
})()`
