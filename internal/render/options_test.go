package render

import (
	"crypto/tls"
	"fmt"
	"testing"
)

// TestSPKIHash: the hash of the farm's leaf key, taken from a verified
// handshake, is what the farm announces.
func TestSPKIHash(t *testing.T) {
	f := getFixture(t)
	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", f.farm.HTTPSPort()), &tls.Config{ServerName: "render.test", RootCAs: f.farm.CertPool()})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if got, want := SPKIHash(conn.ConnectionState().PeerCertificates[0]), f.farm.LeafSPKI(); got != want || got == "" {
		t.Errorf("SPKIHash %q, farm says %q", got, want)
	}
}
