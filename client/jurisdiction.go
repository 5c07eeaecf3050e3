package client

import (
	"context"
	"net/http"
	"time"
)

// This file is jurisdictions as the console meets them: the state of each
// market (open, restricted with some features off, or withdrawn), the
// country rules that say which categories of content are illegal where,
// the territorial restrictions of a chat, and where the server's IP table
// places an address. Staff (triage, moderators, legal, admins) read; only
// admins change, and the server audits every change. Anyone else gets a
// kurir.EForbidden *Error, with Reason "staff_only" or "admin_only".

// MarketStatus is the state of a country's market.
type MarketStatus string

// The market states.
const (
	// MarketOpen is every country without a policy.
	MarketOpen MarketStatus = "open"
	// MarketRestricted turns the features in CountryPolicy.Off off there.
	MarketRestricted MarketStatus = "restricted"
	// MarketWithdrawn refuses everyone there sign-up, login and use; their
	// accounts and data are kept.
	MarketWithdrawn MarketStatus = "withdrawn"
)

// CountryPolicy is the state of one country's market.
type CountryPolicy struct {
	// Code is the country, ISO 3166-1 alpha-2; Name its English name.
	Code   string       `json:"code"`
	Name   string       `json:"name"`
	Status MarketStatus `json:"status"`
	// Off are the features turned off while restricted: "signup",
	// "discovery", "public_chats", "uploads".
	Off []string `json:"off"`
	// Note is the operator's explanation, which people there read with a
	// refusal.
	Note      string    `json:"note"`
	UpdatedAt time.Time `json:"updated_at"`
	// UpdatedBy is the admin who set it; 0 for the operator's command line.
	UpdatedBy int64 `json:"updated_by"`
}

// CountryRule says a category of content is illegal in a country or group
// of countries, under a law.
type CountryRule struct {
	ID int64 `json:"id"`
	// Scope is a country (ISO 3166-1 alpha-2) or a group ("EU", "EEA");
	// ScopeName names it for people.
	Scope     string `json:"scope"`
	ScopeName string `json:"scope_name"`
	// Category is a moderation category, such as "hate_speech".
	Category       string    `json:"category"`
	LegalReference string    `json:"legal_reference"`
	CreatedAt      time.Time `json:"created_at"`
	// CreatedBy is the admin who added it; 0 for the operator's command line.
	CreatedBy int64 `json:"created_by"`
}

// Country is a country code the server accepts, with its English name.
type Country struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Jurisdictions is the whole jurisdiction policy, as the console shows it.
type Jurisdictions struct {
	// Countries are those with a policy, by code; every other country is
	// an open market.
	Countries []CountryPolicy `json:"countries"`
	// Rules are the country rules, by scope and category.
	Rules []CountryRule `json:"rules"`
	// Groups are the groups of countries a rule or restriction may name,
	// with their members: "EU" and "EEA".
	Groups map[string][]string `json:"groups"`
	// Features are what a restricted market can turn off.
	Features []string `json:"features"`
	// AllCountries are every country code the server accepts.
	AllCountries []Country `json:"all_countries"`
}

// Jurisdictions returns the jurisdiction policy (staff only).
func (c *Client) Jurisdictions(ctx context.Context) (Jurisdictions, error) {
	var j Jurisdictions
	err := c.do(ctx, http.MethodGet, c.url("/jurisdictions"), nil, &j)
	return j, err
}

// PolicyParams are a country's new market state.
type PolicyParams struct {
	// Status is required.
	Status MarketStatus `json:"status"`
	// Off are, for MarketRestricted, the features to turn off; at least one.
	Off []string `json:"off,omitempty"`
	// Note, at most 500 characters, is shown to people there with a refusal.
	Note string `json:"note,omitempty"`
}

// SetCountryPolicy sets the market state of country code (ISO 3166-1
// alpha-2, such as "DE"; admins only) and returns it. It applies on every
// node within a second. MarketOpen with nothing off and no note removes
// the country's policy. An unknown country is a kurir.EInvalid *Error with
// Field "country".
func (c *Client) SetCountryPolicy(ctx context.Context, code string, p PolicyParams) (CountryPolicy, error) {
	var out CountryPolicy
	err := c.do(ctx, http.MethodPut, c.urlSegment("/jurisdictions/countries/", code, ""), p, &out)
	return out, err
}

// RuleParams are a country rule. Every field is required.
type RuleParams struct {
	// Scope is a country (ISO 3166-1 alpha-2) or a group ("EU", "EEA").
	Scope string `json:"scope"`
	// Category is a moderation category, such as "hate_speech".
	Category string `json:"category"`
	// LegalReference names the law, such as "§ 130 StGB".
	LegalReference string `json:"legal_reference"`
}

// AddCountryRule records that a category is illegal in a scope (admins
// only) and returns the rule. Restrictions by country rules then withhold
// content of the category there. A second rule for the same scope and
// category is a kurir.EConflict *Error.
func (c *Client) AddCountryRule(ctx context.Context, p RuleParams) (CountryRule, error) {
	var r CountryRule
	err := c.do(ctx, http.MethodPost, c.url("/jurisdictions/rules"), p, &r)
	return r, err
}

// RemoveCountryRule removes country rule id (admins only): content withheld
// under it alone is readable there again.
func (c *Client) RemoveCountryRule(ctx context.Context, id int64) error {
	return c.do(ctx, http.MethodDelete, c.url("/jurisdictions/rules/*", id), nil, nil)
}

// Restriction withholds a chat, or one message of it, from readers in some
// countries. A restrict action (ActionRestrict) makes one; reversing the
// action lifts it.
type Restriction struct {
	ID     int64 `json:"id"`
	ChatID int64 `json:"chat_id"`
	// Seq is the message withheld; 0 for the whole chat.
	Seq int64 `json:"seq"`
	// Scope are the countries and groups it applies in; empty means
	// wherever the country rules make Category illegal.
	Scope    []string `json:"scope"`
	Category string   `json:"category,omitempty"`
	// Reason is what readers where it applies are told.
	Reason         string    `json:"reason"`
	LegalReference string    `json:"legal_reference,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	// Where says for people where it applies today: "AT, FR", or
	// "by country rules: DE" for a restriction by country rules.
	Where string `json:"where"`
}

// ChatRestrictions returns the territorial restrictions in force on chat
// chatID and its messages, oldest first (staff only).
func (c *Client) ChatRestrictions(ctx context.Context, chatID int64) ([]Restriction, error) {
	var out struct {
		Restrictions []Restriction `json:"restrictions"`
	}
	err := c.do(ctx, http.MethodGet, c.url("/moderation/chats/*/restrictions", chatID), nil, &out)
	return out.Restrictions, err
}

// GeoLookup is where the server's IP table places an address.
type GeoLookup struct {
	// IP is the address as the server read it.
	IP string `json:"ip"`
	// Country and CountryName are set when Found.
	Country     string `json:"country,omitempty"`
	CountryName string `json:"country_name,omitempty"`
	Found       bool   `json:"found"`
}

// GeoLookup asks where the server's IP table places ip, an IPv4 or IPv6
// address (admins only). Something that is not an address is a
// kurir.EInvalid *Error with Field "ip".
func (c *Client) GeoLookup(ctx context.Context, ip string) (GeoLookup, error) {
	var q query
	q.add("ip", ip)
	var g GeoLookup
	err := c.do(ctx, http.MethodGet, c.url("/geo/lookup")+string(q.b), nil, &g)
	return g, err
}
