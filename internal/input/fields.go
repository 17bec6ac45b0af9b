package input

import "strings"

// splitFields splits one CSV or TSV line into fields, appending them to dst
// (which it returns). It follows RFC 4180 within a single line: a field that
// starts with a double quote runs to the next quote that is not doubled, and
// "" inside it is one quote; quotes elsewhere are literal. An unterminated
// quoted field runs to the end of the line.
//
// Records are deliberately never continued onto the next line: a stray
// quote then costs one field of one line instead of swallowing the rest of
// the file into one record (which is what encoding/csv with LazyQuotes does,
// and what would let one bad line hide a million good ones). Domain lists
// have no multi-line fields.
func splitFields(dst []string, line string, delim byte) []string {
	for {
		if !strings.HasPrefix(line, `"`) {
			i := strings.IndexByte(line, delim)
			if i < 0 {
				return append(dst, line)
			}
			dst = append(dst, line[:i])
			line = line[i+1:]
			continue
		}
		field, rest, more := quotedField(line[1:], delim)
		dst = append(dst, field)
		if !more {
			return dst
		}
		line = rest
	}
}

// quotedField parses the inside of a quoted field (s starts after the
// opening quote). It returns the unquoted field, the rest of the line after
// the delimiter that ends the field, and whether such a delimiter was found.
func quotedField(s string, delim byte) (field, rest string, more bool) {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			// Unterminated: the rest of the line is the field.
			b.WriteString(s)
			return b.String(), "", false
		}
		b.WriteString(s[:i])
		s = s[i+1:]
		if strings.HasPrefix(s, `"`) {
			b.WriteByte('"')
			s = s[1:]
			continue
		}
		// Closing quote: anything up to the delimiter is kept literally
		// (lenient, like LazyQuotes).
		j := strings.IndexByte(s, delim)
		if j < 0 {
			b.WriteString(s)
			return b.String(), "", false
		}
		b.WriteString(s[:j])
		return b.String(), s[j+1:], true
	}
}
