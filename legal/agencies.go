package legal

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"kurir"
	"kurir/sqldb"
)

// mayRegister refuses anyone but the legal team and admins.
func mayRegister(by Staff) error { return mayReview(by) }

// AddAgency registers an agency whose officers may then sign up with an
// e-mail address at one of its domains. A domain belongs to one agency.
func (s *Service) AddAgency(ctx context.Context, by Staff, a Agency) (Agency, error) {
	if err := mayRegister(by); err != nil {
		return Agency{}, err
	}
	name, err := cleanText("name", "agency's name", a.Name, 200, true)
	if err != nil {
		return Agency{}, err
	}
	a.Country = strings.ToUpper(strings.TrimSpace(a.Country))
	if !kurir.IsCountry(a.Country) {
		return Agency{}, kurir.Invalid("country", "unknown_country", "%q is not an ISO 3166-1 alpha-2 country code (such as DE).", a.Country)
	}
	jur, err := cleanText("jurisdiction", "jurisdiction", a.Jurisdiction, 200, false)
	if err != nil {
		return Agency{}, err
	}
	var domains []string
	for _, d := range a.Domains {
		d = strings.ToLower(strings.TrimSpace(d))
		if !validDomain(d) {
			return Agency{}, kurir.Invalid("domains", "invalid_domain", "%q is not an e-mail domain such as police.example.gov.", d)
		}
		if !slices.Contains(domains, d) {
			domains = append(domains, d)
		}
	}
	if len(domains) == 0 {
		return Agency{}, kurir.Invalid("domains", "required", "Name the e-mail domains the agency's officers use.")
	}
	a.Name, a.Jurisdiction, a.Domains, a.CreatedAt = name, jur, domains, s.now()
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		taken, err := agencies(ctx, tx, `disabled_at = 0`)
		if err != nil {
			return err
		}
		for _, other := range taken {
			for _, d := range domains {
				if slices.Contains(other.Domains, d) {
					return &kurir.Error{Code: kurir.EConflict, Field: "domains", Reason: "domain_taken",
						Message: fmt.Sprintf("The domain %s already belongs to %s.", d, other.Name)}
				}
			}
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO legal_agencies (name, country, jurisdiction, domains, removal, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			a.Name, a.Country, a.Jurisdiction, strings.Join(domains, ","), boolInt(a.Removal), sqldb.Micros(a.CreatedAt)).Scan(&a.ID); err != nil {
			return fmt.Errorf("register agency: %w", err)
		}
		return record(ctx, tx, by.ID, by.Role, "legal.agency.add", fmt.Sprintf("agency:%d", a.ID),
			fmt.Sprintf("%s (%s), domains %s, removal orders %v", a.Name, a.Country, strings.Join(domains, ","), a.Removal))
	})
	if err != nil {
		return Agency{}, err
	}
	return a, nil
}

// SetAgencyDisabled stops (or lets again) an agency's officers using the
// portal; its requests are kept.
func (s *Service) SetAgencyDisabled(ctx context.Context, by Staff, id int64, disabled bool) error {
	if err := mayRegister(by); err != nil {
		return err
	}
	at := int64(0)
	if disabled {
		at = sqldb.Micros(s.now())
	}
	return s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		if !disabled {
			// Let back in only if no enabled agency took one of its domains.
			ag, err := s.agency(ctx, tx, id)
			if err != nil {
				return err
			}
			others, err := agencies(ctx, tx, `disabled_at = 0 AND id <> $1`, id)
			if err != nil {
				return err
			}
			for _, o := range others {
				for _, d := range ag.Domains {
					if slices.Contains(o.Domains, d) {
						return &kurir.Error{Code: kurir.EConflict, Field: "domains", Reason: "domain_taken",
							Message: fmt.Sprintf("The domain %s now belongs to %s.", d, o.Name)}
					}
				}
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE legal_agencies SET disabled_at = $2 WHERE id = $1`, id, at)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return kurir.Errorf(kurir.ENotFound, "No agency %d.", id)
		}
		return record(ctx, tx, by.ID, by.Role, "legal.agency.disable", fmt.Sprintf("agency:%d", id), fmt.Sprintf("disabled %v", disabled))
	})
}

// Agencies returns every registered agency, by name.
func (s *Service) Agencies(ctx context.Context) ([]Agency, error) {
	return agencies(ctx, s.db.Read(), `1 = 1`)
}

// agency returns one agency, or ENotFound.
func (s *Service) agency(ctx context.Context, q sqldb.Querier, id int64) (Agency, error) {
	as, err := agencies(ctx, q, `id = $1`, id)
	if err != nil {
		return Agency{}, err
	}
	if len(as) == 0 {
		return Agency{}, kurir.Errorf(kurir.ENotFound, "No agency %d.", id)
	}
	return as[0], nil
}

func agencies(ctx context.Context, q sqldb.Querier, where string, args ...any) ([]Agency, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, name, country, jurisdiction, domains, removal, created_at, disabled_at
		FROM legal_agencies WHERE `+where+` ORDER BY name, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("agencies: %w", err)
	}
	defer rows.Close()
	var out []Agency
	for rows.Next() {
		var a Agency
		var domains string
		var removal, created, disabled int64
		if err := rows.Scan(&a.ID, &a.Name, &a.Country, &a.Jurisdiction, &domains, &removal, &created, &disabled); err != nil {
			return nil, err
		}
		a.Domains = strings.Split(domains, ",")
		a.Removal = removal != 0
		a.CreatedAt = sqldb.FromMicros(created)
		if disabled != 0 {
			a.Disabled = sqldb.FromMicros(disabled)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// validDomain reports whether d looks like an e-mail domain: labels of
// letters, digits and hyphens, at least two of them.
func validDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(d) > 253 || len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
