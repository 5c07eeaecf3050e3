// Package dsatest is a local stand-in for the EU DSA Transparency Database
// API, for tests: a real HTTP server that takes POST /api/v1/statements the
// way the database does. It checks the bearer token, takes at most 100
// statements a call, checks each against the schema field by field
// (dsa.Validate) and refuses a PUID it already has; on any fault it
// creates none of the batch and answers 422 with the faults of each
// statement, keyed statement_N, and otherwise answers 201 with each
// statement and its new uuid.
package dsatest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"kurir/transparency/dsa"
)

// Server is the stand-in database. It is safe for concurrent use.
type Server struct {
	*httptest.Server
	token string

	mu       sync.Mutex
	byPUID   map[string]Stored
	order    []string // PUIDs in the order created
	calls    int      // POSTs to /api/v1/statements, whatever the answer
	answers  []int    // statuses to answer the next calls with, before looking at them
	refusals map[string]map[string][]string
}

// Stored is a statement the server created.
type Stored struct {
	dsa.Statement
	UUID  string
	Batch int // the call that created it, counting from 1
}

// New starts a server that takes the bearer token, and closes it when the
// test ends.
func New(t testing.TB, token string) *Server {
	s := &Server{token: token, byPUID: map[string]Stored{}, refusals: map[string]map[string][]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// AnswerNext makes the next calls, one per status, get that status (and a
// short JSON body) whatever they carry, such as 500 for a database that is
// down.
func (s *Server) AnswerNext(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers = append(s.answers, statuses...)
}

// Refuse makes the server refuse the statement with puid, with message for
// field, as if the database's own checks found a fault kurir's did not.
func (s *Server) Refuse(puid, field, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refusals[puid] = map[string][]string{field: {message}}
}

// ClearRefusals forgets what Refuse said.
func (s *Server) ClearRefusals() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.refusals)
}

// Put stores a statement as if an earlier call had created it.
func (s *Server) Put(st dsa.Statement) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byPUID[st.PUID] = Stored{Statement: st, UUID: uuid()}
	s.order = append(s.order, st.PUID)
}

// Statements returns the statements created, in order.
func (s *Server) Statements() []Stored {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Stored, len(s.order))
	for i, p := range s.order {
		out[i] = s.byPUID[p]
	}
	return out
}

// Calls is how many calls were made to POST /api/v1/statements.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v1/statements" {
		answer(w, http.StatusNotFound, map[string]any{"message": "Not found."})
		return
	}
	if r.Method != http.MethodPost {
		answer(w, http.StatusMethodNotAllowed, map[string]any{"message": "Method not allowed."})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if len(s.answers) > 0 {
		status := s.answers[0]
		s.answers = s.answers[1:]
		answer(w, status, map[string]any{"message": http.StatusText(status)})
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.token {
		answer(w, http.StatusUnauthorized, map[string]any{"message": "Unauthenticated."})
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		answer(w, http.StatusUnsupportedMediaType, map[string]any{"message": "Send JSON."})
		return
	}
	var raw struct {
		Statements []json.RawMessage `json:"statements"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<20)).Decode(&raw); err != nil {
		answer(w, http.StatusUnprocessableEntity, map[string]any{"message": "The body is not JSON.", "errors": map[string][]string{"statements": {err.Error()}}})
		return
	}
	switch n := len(raw.Statements); {
	case n == 0:
		answer(w, http.StatusUnprocessableEntity, map[string]any{"message": "The statements field is required.",
			"errors": map[string][]string{"statements": {"The statements field is required."}}})
		return
	case n > dsa.MaxBatch:
		answer(w, http.StatusUnprocessableEntity, map[string]any{"message": "Too many statements.",
			"errors": map[string][]string{"statements": {fmt.Sprintf("The statements field must not have more than %d items.", dsa.MaxBatch)}}})
		return
	}
	faults := map[string]map[string][]string{}
	sts := make([]dsa.Statement, len(raw.Statements))
	seen := map[string]bool{}
	for i, b := range raw.Statements {
		key := fmt.Sprintf("statement_%d", i)
		// Field types are checked strictly: an unknown field is a name
		// kurir got wrong.
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&sts[i]); err != nil {
			faults[key] = map[string][]string{"statement": {err.Error()}}
			continue
		}
		if err := dsa.Validate(sts[i]); err != nil {
			faults[key] = err.(dsa.Problems).ByField()
			continue
		}
		if f, ok := s.refusals[sts[i].PUID]; ok {
			faults[key] = f
			continue
		}
		if _, taken := s.byPUID[sts[i].PUID]; taken || seen[sts[i].PUID] {
			faults[key] = map[string][]string{"puid": {"The identifier given is not unique within this platform."}}
		}
		seen[sts[i].PUID] = true
	}
	if len(faults) > 0 {
		answer(w, http.StatusUnprocessableEntity, map[string]any{"errors": faults})
		return
	}
	batch := s.calls
	created := make([]map[string]any, len(sts))
	for i, st := range sts {
		stored := Stored{Statement: st, UUID: uuid(), Batch: batch}
		s.byPUID[st.PUID] = stored
		s.order = append(s.order, st.PUID)
		var m map[string]any
		b, _ := json.Marshal(st)
		json.Unmarshal(b, &m)
		m["uuid"], m["created_at"], m["platform_name"] = stored.UUID, "2026-01-01 00:00:00", "kurir"
		created[i] = m
	}
	answer(w, http.StatusCreated, map[string]any{"statements": created})
}

func answer(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

func uuid() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
