package kurir_test

import (
	"slices"
	"testing"

	"kurir"
)

func TestCountries(t *testing.T) {
	codes := kurir.Countries()
	// 249 officially assigned codes, and XK.
	if len(codes) != 250 {
		t.Errorf("Countries() has %d codes, want 250", len(codes))
	}
	if !slices.IsSorted(codes) {
		t.Error("Countries() is not sorted")
	}
	for _, c := range codes {
		if len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
			t.Errorf("code %q is not two capital letters", c)
		}
		if !kurir.IsCountry(c) || kurir.CountryName(c) == "" {
			t.Errorf("%s is listed but IsCountry = %v, CountryName = %q", c, kurir.IsCountry(c), kurir.CountryName(c))
		}
	}
	codes[0] = "QQ" // the caller owns the slice
	if kurir.Countries()[0] != "AD" {
		t.Error("changing the returned slice changed the list")
	}
}

func TestCountryName(t *testing.T) {
	tests := []struct {
		code, want string
	}{
		{"ID", "Indonesia"},
		{"DE", "Germany"},
		{"GB", "United Kingdom"},
		{"KR", "Korea, Republic of"},
		{"CI", "Côte d'Ivoire"},
		{"SS", "South Sudan"},
		{"XK", "Kosovo"},
		{"AQ", "Antarctica"},
		{"ZW", "Zimbabwe"},
		// Not countries: lower case, unknown, reserved or exceptional codes,
		// three letters, empty.
		{"id", ""},
		{"Id", ""},
		{"ZZ", ""},
		{"QQ", ""},
		{"EU", ""},
		{"UK", ""},
		{"AN", ""}, // Netherlands Antilles, withdrawn in 2010
		{"IDN", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			if got := kurir.CountryName(tt.code); got != tt.want {
				t.Errorf("CountryName(%q) = %q, want %q", tt.code, got, tt.want)
			}
			if got, want := kurir.IsCountry(tt.code), tt.want != ""; got != want {
				t.Errorf("IsCountry(%q) = %v, want %v", tt.code, got, want)
			}
		})
	}
}
