package warc

import (
	"fmt"
	"strconv"
	"strings"
)

// parseARCHeader fills rec from an ARC record header line. Version 1
// lines are "URL IP-address Archive-date Content-type Archive-length";
// version 2 lines carry five more fields before the length, which is
// always last. The filedesc:// record becomes "warcinfo", every other
// record "response" (its block is the HTTP response, or DNS text for
// dns: URLs). The synthesised named fields use the WARC names.
func parseARCHeader(line string, rec *Record) (Kind, error) {
	f := strings.Fields(line)
	if len(f) != 5 && len(f) != 10 {
		return KindBadWARCHeader, fmt.Errorf("ARC header with %d fields: %.60q", len(f), line)
	}
	length, err := strconv.ParseInt(f[len(f)-1], 10, 64)
	if err != nil || length < 0 {
		return KindBadWARCHeader, fmt.Errorf("ARC header length %q", f[len(f)-1])
	}
	typ, ctype := TypeResponse, f[3]
	switch {
	case strings.HasPrefix(f[0], "filedesc://"):
		typ = TypeWarcinfo
	case strings.HasPrefix(f[0], "dns:"):
		ctype = "text/dns"
	}
	rec.Version = "ARC"
	rec.setField("WARC-Type", typ)
	rec.setField("WARC-Target-URI", f[0])
	rec.setField("WARC-IP-Address", f[1])
	rec.setField("WARC-Date", f[2])
	rec.setField("Content-Type", ctype)
	rec.setField("Content-Length", f[len(f)-1])
	rec.Length = length
	return "", nil
}
