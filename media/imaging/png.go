package imaging

import (
	"bufio"
	"encoding/binary"
	"io"
)

const pngSignature = "\x89PNG\r\n\x1a\n"

// pngKeep reports whether typ is one of the ancillary chunks that change
// how a PNG looks, or move: colour, transparency, pixel density and APNG
// animation. stripPNG keeps these and the critical chunks, and drops every
// other ancillary chunk, known or not — among them eXIf, tEXt, zTXt, iTXt
// (which carries XMP) and tIME. A decoder may ignore any ancillary chunk, so
// none dropped is needed to show the image.
func pngKeep(typ string) bool {
	switch typ {
	case "tRNS", "gAMA", "cHRM", "sRGB", "iCCP", "cICP", "mDCV", "mDCv", "cLLI", "cLLi",
		"sBIT", "bKGD", "hIST", "pHYs", "sPLT", "acTL", "fcTL", "fdAT":
		return true
	}
	return false
}

// stripPNG copies the PNG in br to w, chunk by chunk, without the ancillary
// chunks that pngKeep rejects. Kept chunks are copied whole, CRC
// included, so they stay valid. It stops after IEND, dropping what follows.
func stripPNG(w *bufio.Writer, br *bufio.Reader) error {
	var sig [len(pngSignature)]byte
	if _, err := io.ReadFull(br, sig[:]); err != nil {
		return err
	}
	if string(sig[:]) != pngSignature {
		return corrupt(PNG, nil, "does not start with the PNG signature")
	}
	w.WriteString(pngSignature)
	for first := true; ; first = false {
		var h [8]byte // length, type
		if _, err := io.ReadFull(br, h[:]); err != nil {
			return err
		}
		n := binary.BigEndian.Uint32(h[:4])
		typ := string(h[4:])
		if n > 1<<31-1 {
			return corrupt(PNG, nil, "has a %q chunk longer than PNG allows", typ)
		}
		if first && typ != "IHDR" {
			return corrupt(PNG, nil, "does not start with an IHDR chunk")
		}
		critical := h[4]&0x20 == 0 // an upper-case first letter
		if !critical && !pngKeep(typ) {
			if _, err := br.Discard(int(n) + 4); err != nil {
				return err
			}
			continue
		}
		w.Write(h[:])
		if err := copyN(w, br, int(n)+4); err != nil {
			return err
		}
		if typ == "IEND" {
			return nil
		}
	}
}
