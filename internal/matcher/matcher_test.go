package matcher

import (
	"bytes"
	"fmt"
	"reflect"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"
)

func TestRequiredLiterals(t *testing.T) {
	cases := []struct {
		expr string
		want []string
	}{
		{`cdn\.botpress\.cloud/webchat/v(\d+)`, []string{"cdn.botpress.cloud/webchat/v"}},
		{`CDN\.Botpress`, []string{"cdn.botpress"}},
		{`(?:foo|bar)baz`, []string{"foobaz", "barbaz"}},
		{`abc|de`, []string{"abc", "de"}},
		{`abc|d`, nil}, // "d" is too short to be worth a prefilter
		{`<[^>]+data-react`, []string{"data-react"}},
		{`abcd|defg`, []string{"abcd", "defg"}},
		{`x*`, nil},
		{`<link[^>]* href=[^>]*?bootstrap`, []string{"bootstrap"}},
		{`(?:ab)+cdef`, []string{"cdef"}},
		{`wp-(?:content|includes)`, []string{"wp-content", "wp-includes"}},
		{`[ab]xyz`, []string{"axyz", "bxyz"}},
		{`a.c`, nil},
		{`^nginx(?:/([\d.]+))?`, []string{"nginx"}},
		{`(?!angular\.io)\bangular.{0,32}\.js`, []string{"angular"}},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			a, err := analyze(c.expr)
			if err != nil {
				t.Fatal(err)
			}
			got := slices.Clone(a.literals)
			slices.Sort(got)
			want := slices.Clone(c.want)
			slices.Sort(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("literals = %q, want %q", got, want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		expr   string
		groups int
		ok     bool
	}{
		{`a(b)(c)?`, 2, true},
		{`(?<!elo\.io)/cargo\.`, 0, true},
		{`^(?!.*player).*aniview\.com/`, 0, true},
		{`/sites/(?!(?:default|all)/).*/(files)/`, 1, true},
		{`a(`, 0, false},
		{`[z-a]`, 0, false},
	} {
		g, err := Validate(c.expr)
		if (err == nil) != c.ok || (c.ok && g != c.groups) {
			t.Errorf("Validate(%q) = %d, %v; want groups %d ok %v", c.expr, g, err, c.groups, c.ok)
		}
	}
}

// scanBoth runs Scan and ScanPlain and returns their results as text.
func scanBoth(t testing.TB, s *Set, text []byte) (fast, plain []string) {
	t.Helper()
	rec := func(out *[]string) func(int, Match) {
		return func(id int, m Match) {
			*out = append(*out, fmt.Sprintf("%d:%v", id, m.Index))
		}
	}
	if err := s.Scan(text, nil, rec(&fast)); err != nil {
		t.Fatal(err)
	}
	if err := s.ScanPlain(text, rec(&plain)); err != nil {
		t.Fatal(err)
	}
	return fast, plain
}

var trickyExprs = []string{
	`cdn\.botpress\.cloud/webchat/v(\d+(?:\.\d+)?)/inject\.js`,
	`\bfoo\b`,
	`^<!doctype`,
	`html>$`,
	`bar.*baz`,
	`(?:alpha|beta)+gamma`,
	`x[^>]*?yz{1,3}`,
	`(?<!no)jquery`,
	`abc(?!def)`,
	`ÉCOLE`,
	`data-v(?:ue)?-[0-9a-f]{8}`,
	`\bwp-content\b.{0,10}themes`,
	``,
	`a*`,
}

func TestScanEqualsPlain(t *testing.T) {
	s, err := Compile(trickyExprs)
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{
		"",
		"<!DOCTYPE html><script src=\"https://CDN.botpress.cloud/webchat/v3.2/inject.js\"></script></html>",
		"xfoo foo foox",
		"bar " + strings.Repeat("-", 300) + " baz bar baz",
		"alphabetagamma gamma",
		"x>yz xaaaayzzz",
		"nojquery jquery",
		"abcdef abcxyz",
		"l'école ÉCOLE",
		`<div data-v-0123abcd data-vue-deadbeef>`,
		"wp-content/x/themes wp-contentx themes",
	}
	for _, txt := range texts {
		fast, plain := scanBoth(t, s, []byte(txt))
		if !reflect.DeepEqual(fast, plain) {
			t.Errorf("text %q:\n fast  %v\n plain %v", txt, fast, plain)
		}
	}
}

func TestScanFindsVersionInOriginalText(t *testing.T) {
	s, err := Compile([]string{`Botpress\.Cloud/webchat/v(\d+)`})
	if err != nil {
		t.Fatal(err)
	}
	text := []byte("see BOTPRESS.cloud/WebChat/v2/")
	var got []string
	s.Scan(text, nil, func(id int, m Match) { got = append(got, m.Group(text, 0), m.Group(text, 1)) })
	if want := []string{"BOTPRESS.cloud/WebChat/v2", "2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q want %q", got, want)
	}
}

func FuzzScanEqualsPlain(f *testing.F) {
	s, err := Compile(trickyExprs)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("foo bar baz"))
	f.Add([]byte("cdn.botpress.cloud/webchat/v12.3/inject.js"))
	f.Fuzz(func(t *testing.T, text []byte) {
		fast, plain := scanBoth(t, s, text)
		if !reflect.DeepEqual(fast, plain) {
			t.Fatalf("text %q:\n fast  %v\n plain %v", text, fast, plain)
		}
	})
}

func FuzzCompile(f *testing.F) {
	for _, e := range trickyExprs {
		f.Add(e, "sample text foo")
	}
	f.Fuzz(func(t *testing.T, e, text string) {
		if len(e) > 200 || len(text) > 4096 {
			return
		}
		s, err := Compile([]string{e})
		if err != nil {
			return
		}
		fast, plain := scanBoth(t, s, []byte(text))
		if !reflect.DeepEqual(fast, plain) {
			t.Fatalf("expr %q text %q:\n fast  %v\n plain %v", e, text, fast, plain)
		}
		// Below MaxRepeat and in ASCII, the rewritten expression over the
		// lowercased text must agree with plain (?i) over the original.
		ref, err := regexp.Compile("(?i)" + e)
		if err != nil || len(text) >= MaxRepeat || !isASCII(text) {
			return
		}
		var want []string
		if idx := ref.FindStringSubmatchIndex(text); idx != nil {
			want = []string{fmt.Sprintf("0:%v", idx)}
		}
		if !reflect.DeepEqual(fast, want) {
			t.Fatalf("expr %q text %q: got %v, (?i) reference %v", e, text, fast, want)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func TestPrintRE2RoundTrips(t *testing.T) {
	for _, e := range append(trickyExprs, `(?P<v>\d+)\.x`, `[^>]{2,5}?`, `a|b|(c)`, `(?:ab|cd)+?e`, `\x{1F600}[\pL]`, `[\-\]\^]`, `$`, `\x00\x7f`) {
		if strings.ContainsAny(e, "!<") && strings.Contains(e, "(?") && !strings.Contains(e, "?P<") {
			continue // look-around: not RE2
		}
		re, err := syntax.Parse(e, parseFlags)
		if err != nil {
			t.Fatalf("%q: %v", e, err)
		}
		lowerLiterals(re)
		want := re.String()
		printed := printRE2(re)
		back, err := syntax.Parse(printed, syntax.Perl)
		if err != nil {
			t.Fatalf("%q printed as %q: %v", e, printed, err)
		}
		if got := back.String(); got != want && !equalPrograms(t, want, got) {
			t.Errorf("%q: printed %q parses to %q, want %q", e, printed, got, want)
		}
	}
}

// equalPrograms compares two expressions by their compiled programs.
func equalPrograms(t *testing.T, a, b string) bool {
	ra, err1 := syntax.Parse(a, syntax.Perl)
	rb, err2 := syntax.Parse(b, syntax.Perl)
	if err1 != nil || err2 != nil {
		return false
	}
	pa, _ := syntax.Compile(ra.Simplify())
	pb, _ := syntax.Compile(rb.Simplify())
	return pa.String() == pb.String()
}

func TestReverseInnerEqualsPlain(t *testing.T) {
	exprs := []string{
		`<[^>]+data-react`,
		`<link[^>]+foundation[^>"]+css`,
		`<div[^>]+data-component-path="[^"+]jcr:`,
		`(a|ab)(c|bcd)data-x(\d*)`,
		`x{2,5}?yyy`,
		// fillers: a set needs minPrefilterExprs expressions for the prefilter
		`filler-one`, `filler-two`, `filler-three`,
	}
	s, err := Compile(exprs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range exprs {
		if s.exprs[i].a.reverse == nil && i < 3 {
			t.Errorf("%q: reverse-inner strategy not planned", exprs[i])
		}
	}
	texts := []string{
		`<div class="a" data-reactid="1"><span data-react-x>`,
		`<link rel="stylesheet" href="/foundation.min.css"> <link foundation>`,
		`<div id=x data-component-path="/jcr:content/a">`,
		`abcdata-x12 abcddata-x`,
		`xxxxxxxxyyy xxyyy`,
		strings.Repeat("<p ", 100) + "data-react",
		"<" + strings.Repeat("a", 300) + "data-react",
	}
	for _, txt := range texts {
		fast, plain := scanBoth(t, s, []byte(txt))
		if !reflect.DeepEqual(fast, plain) {
			t.Errorf("text %q:\n fast  %v\n plain %v", txt, fast, plain)
		}
	}
}

// gateKinds builds a gate over lits both ways: with the Teddy filter for
// short literals where this CPU runs it, and with the scalar walk.
func gateKinds(t testing.TB, lits []GateLiteral) map[string]*Gate {
	t.Helper()
	kinds := map[string]*Gate{}
	for name, teddy := range map[string]bool{"teddy": true, "scalar": false} {
		if teddy && !teddyUsable() {
			continue
		}
		g, ok := newGate(lits, teddy)
		if !ok {
			t.Fatalf("gate refused %v", lits)
		}
		kinds[name] = g
	}
	return kinds
}

func plainLits(lits ...string) []GateLiteral {
	gl := make([]GateLiteral, len(lits))
	for i, l := range lits {
		gl[i] = GateLiteral{Lit: l}
	}
	return gl
}

func TestGate(t *testing.T) {
	for name, g := range gateKinds(t, plainLits("cdn.botpress.cloud", "chatbase", "kapa")) {
		t.Run(name, func(t *testing.T) { checkGate(t, g) })
	}
	if _, ok := NewGate([]string{"abc"}); ok {
		t.Error("a gate with a 3-byte literal should be refused")
	}
}

func checkGate(t *testing.T, g *Gate) {
	for text, want := range map[string]bool{
		"":                                    false,
		"abc":                                 false,
		"<script src=//CDN.Botpress.Cloud/x>": true,
		"window.ChatBase = 1":                 true,
		"kap":                                 false,
		"xxKAPA":                              true,
		"a quiet page with nothing in it":     false,
	} {
		if got := g.Any([]byte(text)); got != want {
			t.Errorf("Any(%q) = %v, want %v", text, got, want)
		}
	}
}

// FuzzGate: the gate never says no when a literal occurs (ASCII case
// ignored).
func FuzzGate(f *testing.F) {
	lits := []string{"cdn.botpress.cloud", "chatbase", "kapa", "widget.intercom.io/widget/", "[x]y{z}", "$crisp", "lovable", "open webui"}
	kinds := gateKinds(f, plainLits(lits...))
	f.Add([]byte("...CHATbase..."))
	f.Add([]byte(strings.Repeat("the quick brown fox ", 3) + "window.$CRISP=[];"))
	f.Fuzz(func(t *testing.T, text []byte) {
		low := Lower(nil, text)
		for _, l := range lits {
			for name, g := range kinds {
				if bytes.Contains(low, []byte(l)) && !g.Any(text) {
					t.Fatalf("%s gate missed %q in %q", name, l, text)
				}
			}
		}
	})
}

// TestGateEveryPlacement puts literals of every length the gate indexes
// differently (short, medium, long) at every offset of texts of many
// lengths, in mixed case: the gate must open for each, at or before it,
// and stay shut on the filler alone; with and without the Teddy filter.
func TestGateEveryPlacement(t *testing.T) {
	var lits []string
	for n := 4; n <= 24; n++ {
		lits = append(lits, "zq#xj!wk$vy%pb&fm*gh(zt)"[:n])
	}
	filler := strings.Repeat("the quick brown fox <div class=a> window.x = 1; ", 4)
	for _, lit := range lits {
		for name, g := range gateKinds(t, plainLits(lit)) {
			t.Run(name, func(t *testing.T) { checkEveryPlacement(t, g, lit, filler) })
		}
	}
}

func checkEveryPlacement(t *testing.T, g *Gate, lit, filler string) {
	for size := len(lit); size <= len(lit)+80; size++ {
		base := filler[:size-len(lit)]
		if g.Any([]byte(base)) {
			t.Fatalf("gate of %q opened on filler %q", lit, base)
		}
		for off := 0; off <= len(base); off++ {
			text := base[:off] + strings.ToUpper(lit[:len(lit)/2]) + lit[len(lit)/2:] + base[off:]
			if f := g.From([]byte(text)); f < 0 || f > off {
				t.Fatalf("gate of %q: From = %d with it at %d in %q", lit, f, off, text)
			}
		}
	}
}

func TestGateExactIdent(t *testing.T) {
	for name, g := range gateKinds(t, []GateLiteral{{Lit: "Kapa", Exact: true, Ident: true}, {Lit: "cdn.botpress.cloud"}}) {
		t.Run(name, func(t *testing.T) { checkExactIdent(t, g) })
	}
}

func checkExactIdent(t *testing.T, g *Gate) {
	for text, want := range map[string]bool{
		"window.Kapa = {}":          true,
		"Kapa('open')":              true,
		`window["Kapa"]=1`:          true,
		"Kapa":                      true,
		"die Kapazität":             false, // longer identifier
		"xKapa()":                   false,
		"$Kapa()":                   false,
		"kapa()":                    false, // js names are case-sensitive
		"KAPA()":                    false,
		"é" + "Kapa()":              false, // a non-ASCII letter before it
		"src=//CDN.BOTPRESS.cloud/": true,  // other literals still ignore case
	} {
		if got := g.Any([]byte(text)); got != want {
			t.Errorf("Any(%q) = %v, want %v", text, got, want)
		}
	}
}

// lowerBytewise is Lower's definition, one byte at a time.
func lowerBytewise(text []byte) []byte {
	out := make([]byte, len(text))
	for i, c := range text {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

// TestLowerEveryByte: Lower, eight bytes at a time, lowercases exactly the
// 26 capitals, for every byte value at every position of a word and next
// to every other value.
func TestLowerEveryByte(t *testing.T) {
	for a := range 256 {
		for b := range 256 {
			text := []byte{byte(a), byte(b), byte(a), 0xff, byte(b), '@', '[', byte(a), byte(b)}
			if got, want := Lower(nil, text), lowerBytewise(text); !bytes.Equal(got, want) {
				t.Fatalf("Lower(%q) = %q, want %q", text, got, want)
			}
		}
	}
}

func FuzzLower(f *testing.F) {
	f.Add([]byte("Hello WORLD @[`{ \xc3\x84 ZzAa"))
	f.Fuzz(func(t *testing.T, text []byte) {
		if got, want := Lower(nil, text), lowerBytewise(text); !bytes.Equal(got, want) {
			t.Fatalf("Lower(%q) = %q, want %q", text, got, want)
		}
	})
}
