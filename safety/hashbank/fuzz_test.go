package hashbank

import (
	"errors"
	"strings"
	"testing"
)

// FuzzImportParse feeds the list and CSV parsers anything: they never
// panic, and either accept every line or name each bad one.
func FuzzImportParse(f *testing.F) {
	f.Add("d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22\n# c\n\n", true)
	f.Add("signal_type,signal_value,provenance\npdq,abc,x\nmd5,0123456789abcdef0123456789abcdef,\"q,q\"\n", false)
	f.Add("\x00\xff\r\n,,,\n\"unterminated", false)
	f.Fuzz(func(t *testing.T, file string, list bool) {
		var entries []parsed
		var err error
		if list {
			entries, _, err = parseList(strings.NewReader(file), SignalPDQ, nil)
		} else {
			entries, _, err = parseCSV(strings.NewReader(file), nil)
		}
		if err != nil {
			var ie *ImportError
			if !errors.As(err, &ie) || len(ie.Lines) == 0 || ie.Total < len(ie.Lines) {
				t.Fatalf("error %v names no bad lines", err)
			}
			return
		}
		for _, e := range entries {
			if _, err := decodeValue(e.signal, e.value); err != nil {
				t.Fatalf("accepted entry %+v does not decode: %v", e, err)
			}
		}
	})
}
