package httpapi

import (
	"net/http"
	"net/netip"
	"strings"
	"time"

	"kurir"
	"kurir/jurisdiction"
	"kurir/messaging"
	"kurir/moderation"
	"kurir/openapi"
)

// This file is the console's side of jurisdictions: the state of each
// market and the country rules, which staff read and admins change, the
// territorial restrictions of a chat, and where an address is. The
// jurisdiction service checks and audits every change; the reads are
// checked here.

// scopeNames are the names of the groups of countries a rule may name.
var scopeNames = map[string]string{"EU": "European Union", "EEA": "European Economic Area"}

// scopeName names a country or group for people: "Germany", "European Union".
func scopeName(code string) string {
	if n, ok := scopeNames[code]; ok {
		return n
	}
	return kurir.CountryName(code)
}

// needStaff refuses anyone but staff: triage, moderators, legal and admins.
func needStaff(r *http.Request) error {
	if principal(r.Context()).Has(kurir.RoleTriage, kurir.RoleModerator, kurir.RoleLegal, kurir.RoleAdmin) {
		return nil
	}
	return &kurir.Error{Code: kurir.EForbidden, Reason: "staff_only", Message: "Only staff (triage, moderators, legal and admins) can see this."}
}

// needAdmin refuses anyone but an admin, before a request is read.
func needAdmin(r *http.Request) error {
	if principal(r.Context()).Has(kurir.RoleAdmin) {
		return nil
	}
	return &kurir.Error{Code: kurir.EForbidden, Reason: "admin_only", Message: "Only an admin can do this."}
}

// noJurisdictions is the answer of a server run without jurisdictions
// (Deps.Jurisdiction nil).
var noJurisdictions = &kurir.Error{Code: kurir.EUnavailable, Reason: "no_jurisdictions",
	Message: "This server does not apply jurisdictions: there is no policy to see or change."}

type policyView struct {
	Code      string    `json:"code" jsonschema:"description=The country: ISO 3166-1 alpha-2."`
	Name      string    `json:"name"`
	Status    string    `json:"status" jsonschema:"enum=open,enum=restricted,enum=withdrawn"`
	Off       []string  `json:"off" jsonschema:"description=The features turned off in a restricted market: signup\\, discovery\\, public_chats\\, uploads."`
	Note      string    `json:"note" jsonschema:"description=The operator's explanation\\, shown to people there with a refusal."`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy int64     `json:"updated_by" jsonschema:"description=The admin who set it; 0 for the operator at the command line."`
}

func newPolicyView(p jurisdiction.Policy) policyView {
	v := policyView{Code: p.Country, Name: kurir.CountryName(p.Country), Status: string(p.Status), Off: make([]string, 0, len(p.Off)),
		Note: p.Note, UpdatedAt: p.UpdatedAt, UpdatedBy: int64(p.UpdatedBy)}
	for _, f := range p.Off {
		v.Off = append(v.Off, string(f))
	}
	return v
}

type ruleView struct {
	ID        int64     `json:"id"`
	Scope     string    `json:"scope" jsonschema:"description=A country (ISO 3166-1 alpha-2) or a group of countries (EU\\, EEA)."`
	ScopeName string    `json:"scope_name"`
	Category  string    `json:"category" jsonschema:"description=The moderation category it makes illegal there\\, such as hate_speech."`
	LegalRef  string    `json:"legal_reference" jsonschema:"description=The law that makes it illegal."`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy int64     `json:"created_by" jsonschema:"description=The admin who added it; 0 for the operator at the command line."`
}

func newRuleView(r jurisdiction.Rule) ruleView {
	return ruleView{ID: r.ID, Scope: r.Scope, ScopeName: scopeName(r.Scope), Category: string(r.Category), LegalRef: r.LegalRef,
		CreatedAt: r.CreatedAt, CreatedBy: int64(r.CreatedBy)}
}

type countryView struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

type jurisdictionsView struct {
	Countries    []policyView        `json:"countries" jsonschema:"description=The countries with a policy set\\, by code; every other country is an open market."`
	Rules        []ruleView          `json:"rules" jsonschema:"description=The country rules\\, by scope and category."`
	Groups       map[string][]string `json:"groups" jsonschema:"description=The groups of countries a rule or restriction may name\\, with their members."`
	Features     []string            `json:"features" jsonschema:"description=The features a restricted market can turn off."`
	AllCountries []countryView       `json:"all_countries" jsonschema:"description=Every country code the API accepts\\, with its name."`
}

func handleJurisdictions(j *jurisdiction.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := needStaff(r); err != nil {
			writeError(w, r, err)
			return
		}
		if j == nil {
			writeError(w, r, noJurisdictions)
			return
		}
		ps, err := j.Policies(r.Context())
		if err != nil {
			writeError(w, r, err)
			return
		}
		rs, err := j.Rules(r.Context())
		if err != nil {
			writeError(w, r, err)
			return
		}
		codes := kurir.Countries()
		v := jurisdictionsView{Countries: make([]policyView, 0, len(ps)), Rules: make([]ruleView, 0, len(rs)),
			Groups: jurisdiction.Groups, Features: make([]string, 0, len(jurisdiction.Features)), AllCountries: make([]countryView, 0, len(codes))}
		for _, p := range ps {
			v.Countries = append(v.Countries, newPolicyView(p))
		}
		for _, rule := range rs {
			v.Rules = append(v.Rules, newRuleView(rule))
		}
		for _, f := range jurisdiction.Features {
			v.Features = append(v.Features, string(f))
		}
		for _, c := range codes {
			v.AllCountries = append(v.AllCountries, countryView{Code: c, Name: kurir.CountryName(c)})
		}
		encode(w, http.StatusOK, v)
	})
}

type policyRequest struct {
	Status string   `json:"status" jsonschema:"enum=open,enum=restricted,enum=withdrawn"`
	Off    []string `json:"off,omitempty" jsonschema:"description=For restricted: the features to turn off (signup\\, discovery\\, public_chats\\, uploads); at least one."`
	Note   string   `json:"note,omitempty" jsonschema:"description=Why\\, shown to people there with a refusal; at most 500 characters."`
}

func handleSetPolicy(j *jurisdiction.Service, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := needAdmin(r); err != nil {
			writeError(w, r, err)
			return
		}
		if j == nil {
			writeError(w, r, noJurisdictions)
			return
		}
		req, err := decode[policyRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if req.Status == "" {
			// The service reads no status as open; over the API that would
			// lift a market's policy by leaving a field out.
			writeError(w, r, kurir.Invalid("status", "required", "Say the market's status: open, restricted or withdrawn."))
			return
		}
		p := jurisdiction.Policy{Country: r.PathValue("code"), Status: jurisdiction.Status(req.Status), Note: req.Note}
		for _, f := range req.Off {
			p.Off = append(p.Off, jurisdiction.Feature(f))
		}
		p, err = j.SetPolicy(r.Context(), staff(r), p)
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, newPolicyView(p))
	})
}

type ruleRequest struct {
	Scope    string `json:"scope" jsonschema:"description=A country (ISO 3166-1 alpha-2\\, such as DE) or a group of countries (EU\\, EEA)."`
	Category string `json:"category" jsonschema:"description=A moderation category\\, such as hate_speech or terrorism."`
	LegalRef string `json:"legal_reference" jsonschema:"description=The law that makes it illegal there\\, such as § 86a StGB; at most 500 characters."`
}

func handleAddRule(j *jurisdiction.Service, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := needAdmin(r); err != nil {
			writeError(w, r, err)
			return
		}
		if j == nil {
			writeError(w, r, noJurisdictions)
			return
		}
		req, err := decode[ruleRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		rule, err := j.AddRule(r.Context(), staff(r), jurisdiction.Rule{Scope: req.Scope, Category: moderation.Category(req.Category), LegalRef: req.LegalRef})
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusCreated, newRuleView(rule))
	})
}

func handleRemoveRule(j *jurisdiction.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := needAdmin(r); err != nil {
			writeError(w, r, err)
			return
		}
		if j == nil {
			writeError(w, r, noJurisdictions)
			return
		}
		id, err := pathInt(r, "id", "rule ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		respondDone(w, r, j.RemoveRule(r.Context(), staff(r), id))
	})
}

type restrictionView struct {
	ID       int64     `json:"id"`
	ChatID   int64     `json:"chat_id"`
	Seq      int64     `json:"seq" jsonschema:"description=The message withheld; 0 for the whole chat."`
	Scope    []string  `json:"scope" jsonschema:"description=The countries and groups it applies in; empty: wherever the country rules make its category illegal."`
	Category string    `json:"category,omitempty"`
	Reason   string    `json:"reason" jsonschema:"description=What readers where it applies are told."`
	LegalRef string    `json:"legal_reference,omitempty"`
	At       time.Time `json:"created_at"`
	Where    string    `json:"where" jsonschema:"description=Where it applies today\\, for people: DE\\, AT or by country rules: DE\\, AT."`
}

type restrictionList struct {
	Restrictions []restrictionView `json:"restrictions"`
}

// where says for people where a restriction applies today: its scope, or
// for a restriction by country rules, the countries whose rules make its
// category illegal now.
func where(j *jurisdiction.Service, r messaging.Restriction) string {
	if len(r.Scope) > 0 {
		return strings.Join(r.Scope, ", ")
	}
	var codes []string
	if j != nil {
		for _, rule := range j.IllegalIn(moderation.Category(r.Category)) {
			codes = append(codes, rule.Scope)
		}
	}
	if len(codes) == 0 {
		return "by country rules: nowhere yet (no country has a rule for " + r.Category + ")"
	}
	return "by country rules: " + strings.Join(codes, ", ")
}

func handleChatRestrictions(j *jurisdiction.Service, msg *messaging.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := needStaff(r); err != nil {
			writeError(w, r, err)
			return
		}
		id, err := pathInt(r, "id", "chat ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		rs, err := msg.Restrictions(r.Context(), messaging.ChatID(id))
		if err != nil {
			writeError(w, r, err)
			return
		}
		out := restrictionList{Restrictions: make([]restrictionView, 0, len(rs))}
		for _, x := range rs {
			scope := x.Scope
			if scope == nil {
				scope = []string{}
			}
			out.Restrictions = append(out.Restrictions, restrictionView{ID: x.ID, ChatID: int64(x.Chat), Seq: x.Seq, Scope: scope,
				Category: x.Category, Reason: x.Reason, LegalRef: x.LegalRef, At: x.At, Where: where(j, x)})
		}
		encode(w, http.StatusOK, out)
	})
}

type geoLookupView struct {
	IP          string `json:"ip" jsonschema:"description=The address as the server read it."`
	Country     string `json:"country,omitempty" jsonschema:"description=Its country (ISO 3166-1 alpha-2)\\, if the IP table has it."`
	CountryName string `json:"country_name,omitempty"`
	Found       bool   `json:"found" jsonschema:"description=Whether the IP table places the address in a country."`
}

func handleGeoLookup(j *jurisdiction.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := needAdmin(r); err != nil {
			writeError(w, r, err)
			return
		}
		if j == nil {
			writeError(w, r, noJurisdictions)
			return
		}
		s := r.URL.Query().Get("ip")
		addr, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil || addr.Zone() != "" {
			writeError(w, r, kurir.Invalid("ip", "invalid_ip", "%q is not an IP address, such as 203.0.113.7 or 2001:db8::1.", s))
			return
		}
		addr = addr.Unmap()
		v := geoLookupView{IP: addr.String()}
		if c := j.Locate(addr, "").Network; c != "" {
			v.Country, v.CountryName, v.Found = c, kurir.CountryName(c), true
		}
		encode(w, http.StatusOK, v)
	})
}

func addJurisdictionRoutes(rt *router, j *jurisdiction.Service, msg *messaging.Service, limit int64) {
	tags := []string{"jurisdictions"}
	staffOnly := "For staff: triage, moderators, legal and admins."
	adminOnly := "For admins. The change is audited, and every node applies it within a second."
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/jurisdictions", ID: "jurisdictions", Tags: tags, Auth: true,
		Summary:     "The state of each market and the country rules",
		Description: staffOnly + " Countries without a policy are open markets.",
		Responses:   map[int]openapi.Response{200: {Body: jurisdictionsView{}}},
	}, handleJurisdictions(j))
	rt.handle(openapi.Operation{Method: "PUT", Path: "/api/v1/jurisdictions/countries/{code}", ID: "setCountryPolicy", Tags: tags, Auth: true,
		Summary: "Set a market open, restricted (some features off) or withdrawn",
		Description: adminOnly + " People in a withdrawn market cannot sign up, log in or use kurir; their accounts and data are kept. " +
			"Open with nothing off and no note removes the country's policy.",
		Params:    []openapi.Param{{Name: "code", In: "path", Description: "The country: ISO 3166-1 alpha-2, such as DE.", Schema: ""}},
		Request:   policyRequest{},
		Responses: map[int]openapi.Response{200: {Description: "The country's policy now.", Body: policyView{}}},
	}, handleSetPolicy(j, limit))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/jurisdictions/rules", ID: "addCountryRule", Tags: tags, Auth: true,
		Summary: "Record that a category of content is illegal in a country or group, under a law",
		Description: adminOnly + " Restrictions by country rules (a restrict action without countries) withhold content of the category " +
			"wherever a rule names it. One rule per scope and category.",
		Request:   ruleRequest{},
		Responses: map[int]openapi.Response{201: {Description: "The rule.", Body: ruleView{}}},
	}, handleAddRule(j, limit))
	rt.handle(openapi.Operation{Method: "DELETE", Path: "/api/v1/jurisdictions/rules/{id}", ID: "removeCountryRule", Tags: tags, Auth: true,
		Summary:     "Remove a country rule",
		Description: adminOnly + " Content withheld there under it alone is readable there again.",
		Params:      []openapi.Param{{Name: "id", In: "path", Description: "The rule's ID.", Schema: int64(0)}},
		Responses:   map[int]openapi.Response{204: {Description: "Removed."}},
	}, handleRemoveRule(j))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/moderation/chats/{id}/restrictions", ID: "chatRestrictions", Tags: tags, Auth: true,
		Summary:     "The territorial restrictions in force on a chat and its messages",
		Description: staffOnly + " Lift one by reversing the restrict action that made it.",
		Params:      []openapi.Param{chatIDParam},
		Responses:   map[int]openapi.Response{200: {Body: restrictionList{}}},
	}, handleChatRestrictions(j, msg))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/geo/lookup", ID: "geoLookup", Tags: tags, Auth: true,
		Summary:     "Where the IP table places an address",
		Description: "For admins.",
		Params:      []openapi.Param{{Name: "ip", In: "query", Required: true, Description: "An IPv4 or IPv6 address.", Schema: ""}},
		Responses:   map[int]openapi.Response{200: {Body: geoLookupView{}}},
	}, handleGeoLookup(j))
}
