package companies

import (
	"errors"
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in     string
		bucket string
		exact  int64
		err    error
	}{
		{"1-10", "1-10", 0, nil},
		{"1001 - 5000", "1001-5000", 0, nil},
		{"10001+", "10001+", 0, nil},
		{"10,001+", "10001+", 0, nil},
		{"10000+", "10001+", 0, nil},
		{"5001-10000", "5001-10000", 0, nil},
		{"11–50", "11-50", 0, nil},
		{"51 to 200 employees", "51-200", 0, nil},
		{"10-50", "11-50", 0, nil},         // midpoint 30
		{"1000-5000", "1001-5000", 0, nil}, // midpoint 3000
		{"2-5", "1-10", 0, nil},
		{">500", "501-1000", 0, nil},
		{"over 1000", "1001-5000", 0, nil},
		{"<50", "11-50", 0, nil}, // 1..49, midpoint 25
		{"<=10", "1-10", 0, nil},
		{"2200000", "10001+", 2200000, nil},
		{"2,200,000", "10001+", 2200000, nil},
		{"12 employees", "11-50", 12, nil},
		{"1.5k", "1001-5000", 1500, nil},
		{"12.0", "11-50", 12, nil},
		{"1", "1-10", 1, nil},
		{"", "", 0, ErrNoSize},
		{"0", "", 0, ErrNoSize},
		{" 0 ", "", 0, ErrNoSize},
		{"lots", "", 0, ErrBadSize},
		{"-5", "", 0, ErrBadSize},
		{"50-10", "", 0, ErrBadSize},
		{"12.5", "", 0, ErrBadSize},
		{"1e3", "", 0, ErrBadSize},
		{"NaN", "", 0, ErrBadSize},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSize(tc.in)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("ParseSize(%q) = %+v, %v; want %v", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil || got.Bucket.Label != tc.bucket || got.Employees != tc.exact {
				t.Fatalf("ParseSize(%q) = %+v, %v; want %s exact %d", tc.in, got, err, tc.bucket, tc.exact)
			}
		})
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"1-10", "10001+", "1,200", "1.5k", "<50", ">=7", "over 9", "0", "12 employees", "9-", "-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseSize(s)
		if err != nil {
			if !errors.Is(err, ErrNoSize) && !errors.Is(err, ErrBadSize) {
				t.Fatalf("ParseSize(%q): unclassified error %v", s, err)
			}
			return
		}
		if got.Bucket.Label == "" || got.Employees < 0 {
			t.Fatalf("ParseSize(%q) = %+v", s, got)
		}
		if got.Employees > 0 && (got.Employees < got.Bucket.Min || (got.Bucket.Max > 0 && got.Employees > got.Bucket.Max)) {
			t.Fatalf("ParseSize(%q) = %+v: headcount outside its bucket", s, got)
		}
	})
}
