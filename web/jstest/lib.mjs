// Helpers shared by the Node scripts that test the web client's
// secret-chat modules: hex, deterministic randomness as the Go vectors draw
// it, and a minimal test runner. They live outside web/static so that they
// are not embedded in the binary.
import { createHash } from 'node:crypto';

export function hex(b) {
  return Buffer.from(b).toString('hex');
}

export function unhex(s) {
  if (typeof s !== 'string' || s.length % 2) throw new Error(`not hex: ${s}`);
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

export function concat(...parts) {
  return Uint8Array.from(Buffer.concat(parts.map((p) => Buffer.from(p))));
}

// detRand is the randomness of the test vectors: SHA-256(label || u64 BE
// counter) for counter 0, 1, ..., concatenated (secret/protocol's
// helpers_test.go). It is synchronous, as the modules want their random
// sources, so it uses node:crypto rather than WebCrypto's async digest.
export function detRand(label) {
  let counter = 0n;
  let buf = Buffer.alloc(0);
  return (n) => {
    while (buf.length < n) {
      const c = Buffer.alloc(8);
      c.writeBigUInt64BE(counter++);
      buf = Buffer.concat([buf, createHash('sha256').update(label).update(c).digest()]);
    }
    const out = Uint8Array.from(buf.subarray(0, n));
    buf = buf.subarray(n);
    return out;
  };
}

// fixedRand yields exactly the given bytes, in order, and fails when they
// run out: it checks that a function reads what the document says it reads.
export function fixedRand(...chunks) {
  let buf = Buffer.concat(chunks.map((c) => Buffer.from(c)));
  return (n) => {
    if (buf.length < n) throw new Error(`fixedRand: asked for ${n} bytes, ${buf.length} left`);
    const out = Uint8Array.from(buf.subarray(0, n));
    buf = buf.subarray(n);
    return out;
  };
}

export class AssertionError extends Error {}

export function check(ok, what) {
  if (!ok) throw new AssertionError(what);
}

// eqHex compares byte strings (or hex) and names the difference.
export function eqHex(got, want, what) {
  const g = typeof got === 'string' ? got : hex(got);
  const w = typeof want === 'string' ? want : hex(want);
  if (g === w) return;
  if (g.length <= 160 && w.length <= 160) throw new AssertionError(`${what}:\n       got  ${g}\n       want ${w}`);
  // Long values (session states): show where they part, not all of them.
  let i = 0;
  while (i < g.length && g[i] === w[i]) i++;
  const at = i - (i % 2);
  const from = Math.max(0, at - 16);
  throw new AssertionError(`${what}: ${g.length / 2} bytes, want ${w.length / 2}; they differ from byte ${at / 2}:\n` +
    `       got  …${g.slice(from, at + 64)}…\n       want …${w.slice(from, at + 64)}…`);
}

export function eq(got, want, what) {
  if (got !== want) throw new AssertionError(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

// rejects runs fn and checks that it throws an error with this reason (a
// SecretError's stable cause) or, for reason null, any error.
export async function rejects(fn, reason, what) {
  try {
    await fn();
  } catch (err) {
    if (reason !== null && err.reason !== reason) {
      throw new AssertionError(`${what}: threw ${err.reason || err.name}: ${err.message}, want ${reason}`);
    }
    return err;
  }
  throw new AssertionError(`${what}: did not throw, want ${reason ?? 'an error'}`);
}

// runTests runs the tests one after another, prints each result and sets
// the exit code: non-zero if any failed.
export async function runTests(tests) {
  let failed = 0;
  for (const { name, fn } of tests) {
    const start = performance.now();
    try {
      await fn();
      console.log(`ok   ${name} (${(performance.now() - start).toFixed(0)} ms)`);
    } catch (err) {
      failed++;
      console.log(`FAIL ${name}\n     ${err instanceof AssertionError ? err.message : err.stack}`);
    }
  }
  console.log(failed ? `${failed} of ${tests.length} tests failed` : `all ${tests.length} tests passed`);
  process.exitCode = failed ? 1 : 0;
}
