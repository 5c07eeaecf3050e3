package kurir

import "context"

// Location is where a reader is, for the law of the place: the country
// their network address is in and the country their account declares,
// each an ISO 3166-1 alpha-2 code or "" when unknown. A territorial
// restriction in either country applies to them, as does a market the
// operator has left.
type Location struct {
	Network  string
	Declared string
}

// Countries returns the location's known countries, without repeats.
func (l Location) Countries() []string {
	switch {
	case l.Network == "" && l.Declared == "":
		return nil
	case l.Network == "" || l.Network == l.Declared:
		return []string{l.Declared}
	case l.Declared == "":
		return []string{l.Network}
	}
	return []string{l.Network, l.Declared}
}

type locationKey struct{}

// WithLocation returns ctx carrying where the request's reader is.
func WithLocation(ctx context.Context, l Location) context.Context {
	return context.WithValue(ctx, locationKey{}, l)
}

// LocationFrom returns where the request's reader is: the zero Location
// (no country known) for work not done for a reader, such as moderation's.
func LocationFrom(ctx context.Context) Location {
	l, _ := ctx.Value(locationKey{}).(Location)
	return l
}
