package protocol

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/binary"
	"fmt"
)

// stateVersion is the first byte of a serialised Session.
const stateVersion = 1

const (
	stateFixedSize   = 1 + adSize + 32 + 32 + 32 + 1 + 32 + 32 + 4 + 4 + 4 + 4
	skippedEntrySize = 32 + 4 + 32
)

// State flag bits.
const (
	flagHasSend = 1 << 0
	flagHasRecv = 1 << 1
)

// MarshalBinary serialises the session so a device can persist it
// (version 1, all integers big-endian):
//
//	0x01 || AD (128) || root key (32) || our ratchet private key (32) ||
//	their ratchet public key (32, zero if none yet) ||
//	flags (1: bit 0 sending chain, bit 1 receiving chain) ||
//	sending chain key (32, zero if none) || receiving chain key (32, zero if none) ||
//	Ns (u32) || Nr (u32) || PN (u32) || skipped count (u32) ||
//	count × (ratchet public key (32) || N (u32) || message key (32)), oldest first
//
// The output holds secret keys: store it as such.
func (s *Session) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, stateFixedSize+len(s.skipped)*skippedEntrySize)
	b = append(b, stateVersion)
	b = append(b, s.ad[:]...)
	b = append(b, s.st.rootKey[:]...)
	b = append(b, s.st.self.Bytes()...)
	b = append(b, s.st.remote[:]...)
	var flags byte
	if s.st.hasSend {
		flags |= flagHasSend
	}
	if s.st.hasRecv {
		flags |= flagHasRecv
	}
	b = append(b, flags)
	b = append(b, s.st.sendCK[:]...)
	b = append(b, s.st.recvCK[:]...)
	b = binary.BigEndian.AppendUint32(b, s.st.ns)
	b = binary.BigEndian.AppendUint32(b, s.st.nr)
	b = binary.BigEndian.AppendUint32(b, s.st.pn)
	b = binary.BigEndian.AppendUint32(b, uint32(len(s.skipped)))
	for _, k := range s.skipped {
		b = append(b, k.dh[:]...)
		b = binary.BigEndian.AppendUint32(b, k.n)
		b = append(b, k.mk[:]...)
	}
	return b, nil
}

// UnmarshalBinary restores a session written by MarshalBinary. It rejects
// wrong lengths, versions, unknown flags, chain keys present without their
// flag and more than MaxSkippedKeys skipped keys with ErrMalformed; s is
// unchanged on error. The restored session draws ratchet keys from
// crypto/rand (see SetRand).
func (s *Session) UnmarshalBinary(data []byte) error {
	if len(data) < stateFixedSize {
		return fmt.Errorf("protocol: session state: %d bytes: %w", len(data), ErrMalformed)
	}
	if data[0] != stateVersion {
		return fmt.Errorf("protocol: session state: version %d: %w", data[0], ErrMalformed)
	}
	r := reader{b: data[1:]}
	ns := Session{rand: rand.Reader}
	r.copy(ns.ad[:])
	r.copy(ns.st.rootKey[:])
	var priv [32]byte
	r.copy(priv[:])
	self, err := ecdh.X25519().NewPrivateKey(priv[:])
	if err != nil {
		return fmt.Errorf("protocol: session state: ratchet key: %w", ErrMalformed)
	}
	ns.st.self = self
	r.copy(ns.st.remote[:])
	flags := r.byte()
	if flags&^(flagHasSend|flagHasRecv) != 0 {
		return fmt.Errorf("protocol: session state: flags %#x: %w", flags, ErrMalformed)
	}
	ns.st.hasSend, ns.st.hasRecv = flags&flagHasSend != 0, flags&flagHasRecv != 0
	r.copy(ns.st.sendCK[:])
	r.copy(ns.st.recvCK[:])
	var zero [32]byte
	if (!ns.st.hasSend && ns.st.sendCK != zero) || (!ns.st.hasRecv && ns.st.recvCK != zero) {
		return fmt.Errorf("protocol: session state: chain key without its flag: %w", ErrMalformed)
	}
	ns.st.ns, ns.st.nr, ns.st.pn = r.u32(), r.u32(), r.u32()
	count := r.u32()
	if count > MaxSkippedKeys || uint64(len(r.b)) != uint64(count)*skippedEntrySize {
		return fmt.Errorf("protocol: session state: %d skipped keys in %d bytes: %w", count, len(r.b), ErrMalformed)
	}
	if count > 0 {
		ns.skipped = make([]skippedKey, count)
		for i := range ns.skipped {
			k := &ns.skipped[i]
			r.copy(k.dh[:])
			k.n = r.u32()
			r.copy(k.mk[:])
		}
	}
	*s = ns
	return nil
}
