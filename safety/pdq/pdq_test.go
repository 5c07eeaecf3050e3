package pdq

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"kurir"
)

// refFormat prints the hash with bits as the reference stores them: sixteen
// 16-bit words, bit k in word k/16 at bit k%16, printed from the highest
// word to the lowest, each as 4 hex digits.
func refFormat(bitsSet []int) string {
	var w [16]uint16
	for _, k := range bitsSet {
		w[k/16] |= 1 << (k % 16)
	}
	var sb strings.Builder
	for i := 15; i >= 0; i-- {
		fmt.Fprintf(&sb, "%04x", w[i])
	}
	return sb.String()
}

// TestHashFormat checks String against the reference's format, and
// ParseHash against String.
func TestHashFormat(t *testing.T) {
	golden := []struct {
		bits []int
		want string
	}{
		{nil, strings.Repeat("0", 64)},
		{[]int{0}, strings.Repeat("0", 63) + "1"},
		{[]int{4}, strings.Repeat("0", 62) + "10"},
		{[]int{15}, strings.Repeat("0", 60) + "8000"},
		{[]int{16}, strings.Repeat("0", 59) + "10000"},
		{[]int{255}, "8" + strings.Repeat("0", 63)},
		{[]int{0, 1, 2, 3, 252, 253, 254, 255}, "f" + strings.Repeat("0", 62) + "f"},
	}
	for _, g := range golden {
		var h Hash
		for _, k := range g.bits {
			h.setBit(k)
		}
		if got := h.String(); got != g.want || got != refFormat(g.bits) {
			t.Errorf("bits %v: String() = %s, want %s", g.bits, got, g.want)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 100 {
		var h Hash
		var set []int
		for k := range 256 {
			if rng.IntN(2) == 0 {
				h.setBit(k)
				set = append(set, k)
			}
		}
		s := h.String()
		if want := refFormat(set); s != want {
			t.Fatalf("String() = %s, the reference's format gives %s", s, want)
		}
		for _, in := range []string{s, strings.ToUpper(s)} {
			p, err := ParseHash(in)
			if err != nil || p != h {
				t.Fatalf("ParseHash(%q) = %v, %v; want %v", in, p, err, h)
			}
		}
	}
}

func TestParseHashErrors(t *testing.T) {
	valid := "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22"
	for _, tc := range []struct{ name, in string }{
		{"empty", ""},
		{"one digit short", valid[1:]},
		{"one digit over", valid + "0"},
		{"not hex", "g" + valid[1:]},
		{"0x prefix", "0x" + valid[2:]},
		{"space", " " + valid[1:]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := ParseHash(tc.in)
			if kurir.ErrorCode(err) != kurir.EInvalid || h != (Hash{}) {
				t.Errorf("ParseHash(%q) = %v, %v; want the zero Hash and an EInvalid error", tc.in, h, err)
			}
		})
	}
}

func TestDistance(t *testing.T) {
	var zero, one, all Hash
	one.setBit(200)
	for k := range 256 {
		all.setBit(k)
	}
	a, _ := ParseHash("d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22")
	b, _ := ParseHash("d0f8f0cec0f4a84f0e370a22238f67f0b36a2ef596231e1d73e6a39c4e9c9b22")
	for _, tc := range []struct {
		a, b Hash
		want int
	}{
		{zero, zero, 0}, {zero, one, 1}, {one, zero, 1}, {zero, all, 256}, {one, all, 255}, {a, a, 0}, {a, b, 14},
	} {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%v, %v) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestHashJSON(t *testing.T) {
	h, _ := ParseHash("d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22")
	b, err := json.Marshal(map[string]Hash{"pdq": h})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"pdq":"d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22"}`; string(b) != want {
		t.Errorf("json = %s, want %s", b, want)
	}
	var back map[string]Hash
	if err := json.Unmarshal(b, &back); err != nil || back["pdq"] != h {
		t.Errorf("round trip = %v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"pdq":"abc"}`), &back); err == nil {
		t.Error("a 3-digit hash unmarshalled without error")
	}
}

func TestVariantString(t *testing.T) {
	if got := Rotate90.String(); got != "rotate90" {
		t.Errorf("Rotate90 = %q", got)
	}
	if got := Variant(8).String(); got != "Variant(8)" {
		t.Errorf("Variant(8) = %q", got)
	}
}

func TestHashLumaErrors(t *testing.T) {
	for _, tc := range []struct {
		n, w, h int
	}{{99, 10, 10}, {0, 10, 10}, {100, -10, -10}, {100, -1, 5}, {10, 1 << 62, 4}} {
		if _, _, err := HashLuma(make([]float32, tc.n), tc.w, tc.h); kurir.ErrorCode(err) != kurir.EInvalid {
			t.Errorf("HashLuma(%d values, %d, %d): error %v, want EInvalid", tc.n, tc.w, tc.h, err)
		}
	}
	// Longer than needed is fine: the rest is not read.
	if _, _, err := HashLuma(make([]float32, 101), 10, 10); err != nil {
		t.Errorf("HashLuma with one value to spare: %v", err)
	}
}
