// Package jurisdiction holds what the law of each country asks of kurir,
// as the operator decides it: which categories of content are illegal
// where (beyond the platform's own terms, with the law that says so), and
// the state of each market: open, restricted (some features off), or
// withdrawn (nobody there can sign up or log in; their data is kept).
//
// It answers three questions on the request path, from memory: where a
// reader is (Locate: the network's country from the operator's IP table,
// and the account's declared country), whether the market there lets them
// in or use a feature (Admit, Allow), and where a territorial restriction
// applies (Applies, for kurir/messaging). Every node keeps the policy in
// memory and reloads it within a second of a change anywhere (RunSync).
// Every change is written to the audit log with who made it.
package jurisdiction

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"kurir"
	"kurir/audit"
	"kurir/moderation"
	"kurir/sqldb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations is the jurisdiction schema, for sqldb.DB.Migrate.
var Migrations = sqldb.Embedded("jurisdiction", migrationFiles, "migrations")

// Status is the state of a market.
type Status string

// Market states.
const (
	Open       Status = "open"
	Restricted Status = "restricted" // the features listed in Off are unavailable there
	Withdrawn  Status = "withdrawn"  // no sign-up, no login, no use; accounts and data kept
)

// Feature is something a restricted market can turn off.
type Feature string

// The features a market can turn off.
const (
	Signup      Feature = "signup"       // creating accounts
	Discovery   Feature = "discovery"    // finding public groups and channels by @name or search
	PublicChats Feature = "public_chats" // creating public groups and channels, or giving a chat an @name
	Uploads     Feature = "uploads"      // sending photos, videos and files
)

// Features are all the features, in the order the console shows them.
var Features = []Feature{Signup, Discovery, PublicChats, Uploads}

// Groups are the named groups of countries a rule or restriction may use.
var Groups = map[string][]string{
	"EU": {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
		"LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"},
}

func init() {
	Groups["EEA"] = append(slices.Clone(Groups["EU"]), "IS", "LI", "NO")
}

// Policy is a country's market state. A country with none is open.
type Policy struct {
	Country string
	Status  Status
	// Off are the features unavailable while the market is restricted.
	Off []Feature
	// Note is the operator's explanation, shown to people there with the
	// refusal (any language; keep it short).
	Note      string
	UpdatedAt time.Time
	UpdatedBy kurir.UserID
}

// Rule says a category of content is illegal in a country or group, under
// a law. A restriction by country rules withholds content of the category
// wherever a rule names it.
type Rule struct {
	ID        int64
	Scope     string // a country or a group (EU, EEA)
	Category  moderation.Category
	LegalRef  string // the law, such as "§ 86a StGB"
	CreatedAt time.Time
	CreatedBy kurir.UserID
}

// Locator finds the country of a network address; geo.Locator is one.
type Locator interface {
	Lookup(addr netip.Addr) (country string, ok bool)
}

// Service is the jurisdictions policy. It is safe for concurrent use.
type Service struct {
	db    *sqldb.DB
	clock kurir.Clock
	log   *slog.Logger
	geo   Locator

	snap atomic.Pointer[snapshot]
	load sync.Mutex
}

// snapshot is one node's copy of the policy, immutable once loaded.
type snapshot struct {
	version  int64
	policies map[string]Policy
	rules    []Rule
	// illegal maps a country to its categories with the law of each:
	// the rules with their groups expanded.
	illegal map[string]map[moderation.Category]string
}

// NewService returns the policy service. geo may be nil: then only the
// declared country says where anyone is.
func NewService(db *sqldb.DB, geo Locator, clock kurir.Clock, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, clock: clock, log: log, geo: geo}
}

func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// Sync reloads this node's copy of the policy if it changed anywhere.
func (s *Service) Sync(ctx context.Context) error {
	_, err := s.load1(ctx)
	return err
}

// RunSync calls Sync every interval until ctx ends.
func (s *Service) RunSync(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.Sync(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("reload jurisdiction policy", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// current returns the policy as this node has it, loading it at first use.
// A node that cannot load it at all uses an empty policy, and says so.
func (s *Service) current() *snapshot {
	if sn := s.snap.Load(); sn != nil {
		return sn
	}
	sn, err := s.load1(context.Background())
	if err != nil {
		s.log.Error("load jurisdiction policy", "err", err)
		return &snapshot{}
	}
	return sn
}

func (s *Service) load1(ctx context.Context) (*snapshot, error) {
	s.load.Lock()
	defer s.load.Unlock()
	cur := s.snap.Load()
	var version int64
	if err := s.db.Read().QueryRowContext(ctx, `SELECT version FROM jur_version WHERE id = 1`).Scan(&version); err != nil {
		return nil, fmt.Errorf("jurisdiction version: %w", err)
	}
	if cur != nil && cur.version == version {
		return cur, nil
	}
	sn := &snapshot{policies: map[string]Policy{}, illegal: map[string]map[moderation.Category]string{}}
	err := s.db.ReadTx(ctx, func(tx *sqldb.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT version FROM jur_version WHERE id = 1`).Scan(&sn.version); err != nil {
			return err
		}
		ps, err := policies(ctx, tx)
		if err != nil {
			return err
		}
		for _, p := range ps {
			sn.policies[p.Country] = p
		}
		sn.rules, err = rules(ctx, tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("load jurisdiction policy: %w", err)
	}
	for _, r := range sn.rules {
		for _, c := range expand(r.Scope) {
			m := sn.illegal[c]
			if m == nil {
				m = map[moderation.Category]string{}
				sn.illegal[c] = m
			}
			if _, ok := m[r.Category]; !ok {
				m[r.Category] = r.LegalRef
			}
		}
	}
	s.snap.Store(sn)
	return sn, nil
}

// expand returns the countries of a scope code: a group's members, or the
// country itself.
func expand(code string) []string {
	if g, ok := Groups[code]; ok {
		return g
	}
	return []string{code}
}

// ParseScope normalises a list of countries and groups: upper case, known
// codes only, no repeats. An error names the field "countries".
func ParseScope(codes []string) ([]string, error) { return parseScope(codes, "countries") }

func parseScope(codes []string, field string) ([]string, error) {
	var out []string
	for _, c := range codes {
		c = strings.ToUpper(strings.TrimSpace(c))
		if c == "" {
			continue
		}
		if _, group := Groups[c]; !group && !kurir.IsCountry(c) {
			return nil, kurir.Invalid(field, "unknown_country",
				"%q is neither an ISO 3166-1 alpha-2 country code (such as DE) nor a group of countries (EU, EEA).", c)
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// Scope implements messaging.Territory.
func (s *Service) Scope(codes []string) ([]string, error) { return ParseScope(codes) }

// Applies implements messaging.Territory: a restriction of scope applies
// in country if the scope names it or a group it is in; an empty scope
// applies where the country's rules make category illegal.
func (s *Service) Applies(country string, scope []string, category string) (string, bool) {
	if len(scope) == 0 {
		ref, ok := s.current().illegal[country][moderation.Category(category)]
		return ref, ok
	}
	for _, code := range scope {
		if code == country || slices.Contains(Groups[code], country) {
			return "", true
		}
	}
	return "", false
}

// IllegalIn returns the countries whose rules make category illegal, with
// the law of each, sorted by country: where a restriction by country rules
// withholds it today.
func (s *Service) IllegalIn(category moderation.Category) []Rule {
	var out []Rule
	for country, m := range s.current().illegal {
		if ref, ok := m[category]; ok {
			out = append(out, Rule{Scope: country, Category: category, LegalRef: ref})
		}
	}
	slices.SortFunc(out, func(a, b Rule) int { return strings.Compare(a.Scope, b.Scope) })
	return out
}

// Locate returns where a request from addr by an account that declares
// country declared is. An address outside the IP table (or no table) gives
// no network country.
func (s *Service) Locate(addr netip.Addr, declared string) kurir.Location {
	loc := kurir.Location{Declared: declared}
	if s.geo != nil && addr.IsValid() {
		if c, ok := s.geo.Lookup(addr); ok {
			loc.Network = c
		}
	}
	return loc
}

// Admit returns nil if people at loc may use kurir at all, and otherwise
// the refusal for a withdrawn market, in lang (en, id, ru or ar).
func (s *Service) Admit(loc kurir.Location, lang string) error {
	sn := s.current()
	for _, c := range loc.Countries() {
		if p, ok := sn.policies[c]; ok && p.Status == Withdrawn {
			return &kurir.Error{Code: kurir.ELegal, Reason: "market_withdrawn", Message: withdrawnText(lang, c, p.Note)}
		}
	}
	return nil
}

// Allow returns nil if people at loc may use feature, and otherwise the
// refusal, in lang: the market there is restricted with the feature off,
// or withdrawn.
func (s *Service) Allow(loc kurir.Location, feature Feature, lang string) error {
	if err := s.Admit(loc, lang); err != nil {
		return err
	}
	sn := s.current()
	for _, c := range loc.Countries() {
		if p, ok := sn.policies[c]; ok && p.Status == Restricted && slices.Contains(p.Off, feature) {
			return &kurir.Error{Code: kurir.ELegal, Reason: "feature_unavailable", Message: featureText(lang, c, feature, p.Note)}
		}
	}
	return nil
}

// Policies returns every country with a policy set, by country code.
func (s *Service) Policies(ctx context.Context) ([]Policy, error) { return policies(ctx, s.db.Read()) }

// Rules returns every country rule, by scope and category.
func (s *Service) Rules(ctx context.Context) ([]Rule, error) { return rules(ctx, s.db.Read()) }

func policies(ctx context.Context, q sqldb.Querier) ([]Policy, error) {
	rows, err := q.QueryContext(ctx, `SELECT country, status, features_off, note, updated_at, updated_by FROM jur_policies ORDER BY country`)
	if err != nil {
		return nil, fmt.Errorf("policies: %w", err)
	}
	defer rows.Close()
	var out []Policy
	for rows.Next() {
		var p Policy
		var off string
		var at int64
		if err := rows.Scan(&p.Country, &p.Status, &off, &p.Note, &at, &p.UpdatedBy); err != nil {
			return nil, err
		}
		for _, f := range strings.Split(off, ",") {
			if f != "" {
				p.Off = append(p.Off, Feature(f))
			}
		}
		p.UpdatedAt = sqldb.FromMicros(at)
		out = append(out, p)
	}
	return out, rows.Err()
}

func rules(ctx context.Context, q sqldb.Querier) ([]Rule, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, scope, category, legal_ref, created_at, created_by FROM jur_rules ORDER BY scope, category, id`)
	if err != nil {
		return nil, fmt.Errorf("country rules: %w", err)
	}
	defer rows.Close()
	var out []Rule
	for rows.Next() {
		var r Rule
		var at int64
		if err := rows.Scan(&r.ID, &r.Scope, &r.Category, &r.LegalRef, &at, &r.CreatedBy); err != nil {
			return nil, err
		}
		r.CreatedAt = sqldb.FromMicros(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// mayChange refuses anyone but an admin.
func mayChange(by moderation.Staff) error {
	if by.Role != kurir.RoleAdmin {
		return &kurir.Error{Code: kurir.EForbidden, Reason: "admin_only", Message: "Only an admin can change jurisdiction policy."}
	}
	return nil
}

// SetPolicy sets a country's market state; an open market with nothing
// off and no note removes the policy. It applies on this node at once and
// on the others within a second.
func (s *Service) SetPolicy(ctx context.Context, by moderation.Staff, p Policy) (Policy, error) {
	if err := mayChange(by); err != nil {
		return Policy{}, err
	}
	p.Country = strings.ToUpper(strings.TrimSpace(p.Country))
	if !kurir.IsCountry(p.Country) {
		return Policy{}, kurir.Invalid("country", "unknown_country", "%q is not an ISO 3166-1 alpha-2 country code (such as DE or IR).", p.Country)
	}
	switch p.Status {
	case Open, Restricted, Withdrawn:
	case "":
		p.Status = Open
	default:
		return Policy{}, kurir.Invalid("status", "unknown_status", "A market is open, restricted or withdrawn, not %q.", p.Status)
	}
	var off []Feature
	for _, f := range p.Off {
		if !slices.Contains(Features, f) {
			return Policy{}, kurir.Invalid("off", "unknown_feature", "Unknown feature %q; the features are signup, discovery, public_chats and uploads.", f)
		}
		if !slices.Contains(off, f) {
			off = append(off, f)
		}
	}
	if len(off) > 0 && p.Status != Restricted {
		return Policy{}, kurir.Invalid("off", "not_restricted", "Features are turned off only in a restricted market.")
	}
	if p.Status == Restricted && len(off) == 0 {
		return Policy{}, kurir.Invalid("off", "nothing_off", "A restricted market turns at least one feature off.")
	}
	p.Off = off
	note, err := cleanNote("note", p.Note, 500)
	if err != nil {
		return Policy{}, err
	}
	p.Note, p.UpdatedAt, p.UpdatedBy = note, s.now(), by.ID
	names := make([]string, len(off))
	for i, f := range off {
		names[i] = string(f)
	}
	err = s.change(ctx, by, "jurisdiction.policy", "country:"+p.Country, fmt.Sprintf("%s off=%s note=%q", p.Status, strings.Join(names, ","), p.Note),
		func(tx *sqldb.Tx) error {
			if p.Status == Open && p.Note == "" {
				_, err := tx.ExecContext(ctx, `DELETE FROM jur_policies WHERE country = $1`, p.Country)
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO jur_policies (country, status, features_off, note, updated_at, updated_by)
				VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (country) DO UPDATE SET status = $2, features_off = $3, note = $4, updated_at = $5, updated_by = $6`,
				p.Country, string(p.Status), strings.Join(names, ","), p.Note, sqldb.Micros(p.UpdatedAt), p.UpdatedBy)
			return err
		})
	if err != nil {
		return Policy{}, err
	}
	return p, nil
}

// AddRule records that category is illegal in scope (a country or group)
// under the law legalRef.
func (s *Service) AddRule(ctx context.Context, by moderation.Staff, r Rule) (Rule, error) {
	if err := mayChange(by); err != nil {
		return Rule{}, err
	}
	scope, err := parseScope([]string{r.Scope}, "scope")
	if err != nil {
		return Rule{}, err
	}
	if len(scope) != 1 {
		return Rule{}, kurir.Invalid("scope", "no_scope", "A rule names one country (such as DE) or group (EU, EEA).")
	}
	if !r.Category.Valid() {
		return Rule{}, kurir.Invalid("category", "unknown_category", "Unknown category %q.", r.Category)
	}
	ref, err := cleanNote("legal_reference", r.LegalRef, 500)
	if err != nil {
		return Rule{}, err
	}
	if ref == "" {
		return Rule{}, kurir.Invalid("legal_reference", "empty", "A country rule names the law that makes the content illegal there.")
	}
	r.Scope, r.LegalRef, r.CreatedAt, r.CreatedBy = scope[0], ref, s.now(), by.ID
	err = s.change(ctx, by, "jurisdiction.rule.add", "scope:"+r.Scope, fmt.Sprintf("%s illegal under %q", r.Category, r.LegalRef),
		func(tx *sqldb.Tx) error {
			err := tx.QueryRowContext(ctx, `INSERT INTO jur_rules (scope, category, legal_ref, created_at, created_by)
				VALUES ($1, $2, $3, $4, $5) RETURNING id`,
				r.Scope, string(r.Category), r.LegalRef, sqldb.Micros(r.CreatedAt), r.CreatedBy).Scan(&r.ID)
			if sqldb.IsUniqueViolation(err) {
				return kurir.Errorf(kurir.EConflict, "There is already a rule for %s in %s; remove it first to change its law.", r.Category, r.Scope)
			}
			return err
		})
	if err != nil {
		return Rule{}, err
	}
	return r, nil
}

// RemoveRule deletes rule id. Content withheld by country rules under it
// alone is back where it named.
func (s *Service) RemoveRule(ctx context.Context, by moderation.Staff, id int64) error {
	if err := mayChange(by); err != nil {
		return err
	}
	var r Rule
	err := s.db.Read().QueryRowContext(ctx, `SELECT scope, category, legal_ref FROM jur_rules WHERE id = $1`, id).Scan(&r.Scope, &r.Category, &r.LegalRef)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return kurir.Errorf(kurir.ENotFound, "No country rule %d.", id)
		}
		return err
	}
	return s.change(ctx, by, "jurisdiction.rule.remove", "scope:"+r.Scope, fmt.Sprintf("rule %d: %s illegal under %q", id, r.Category, r.LegalRef),
		func(tx *sqldb.Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM jur_rules WHERE id = $1`, id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return kurir.Errorf(kurir.ENotFound, "No country rule %d.", id)
			}
			return nil
		})
}

// change runs fn, moves the version every node watches and records the
// change in the audit log, all in one transaction; then reloads this node.
func (s *Service) change(ctx context.Context, by moderation.Staff, action, subject, detail string, fn func(tx *sqldb.Tx) error) error {
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE jur_version SET version = version + 1 WHERE id = 1`); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Entry{Actor: by.ID, Role: by.Role, Action: action, Subject: subject, Detail: detail})
		return err
	})
	if err != nil {
		return err
	}
	if err := s.Sync(context.WithoutCancel(ctx)); err != nil {
		s.log.Error("reload jurisdiction policy after a change", "err", err)
	}
	return nil
}

// cleanNote checks free text an admin writes.
func cleanNote(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\n' }) || !utf8.ValidString(s) {
		return "", kurir.Invalid(field, "invalid_characters", "The %s must be plain text.", strings.ReplaceAll(field, "_", " "))
	}
	if n := len([]rune(s)); n > max {
		return "", kurir.Invalid(field, "too_long", "The %s is %d characters long; the limit is %d.", strings.ReplaceAll(field, "_", " "), n, max)
	}
	return s, nil
}
