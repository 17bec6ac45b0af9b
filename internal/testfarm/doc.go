// Package testfarm is a loopback "internet" for tests and benchmarks of the
// scanner: thousands of virtual hosts served by one HTTP and one HTTPS
// server on 127.0.0.1, a DNS server for their names, a test CA, and the
// ground truth a scan of the farm must reproduce exactly.
//
// Pages are real pages from shared/corpus/html (readability and
// htmlparser-benchmark, filtered to be free of AI and chat vendors), some
// with a real vendor snippet from shared/research/ai-embeds inserted before
// </body>, self-hosted AI app templates served whole, same-site scripts that
// call AI APIs from the browser, and DNS verification TXT records. Fault
// hosts misbehave one way each (slow-loris, reset, huge body, gzip bomb,
// redirect loop and chain, private redirects, bad certificates, HTTPS
// refused, www-only, 404/500, DNS timeout, NXDOMAIN, SERVFAIL, truncated
// DNS, robots.txt). Every host has a HostTruth: expected status, expected
// AI technologies with where their traces are, expected DNS records.
//
// Names use the reserved .test TLD, one label per site (site00001.test,
// chat.site00002.test, www.site00003.test, fault-<kind>.test), so each
// site is its own registrable domain. Everything is deterministic from
// Config.Seed and Config.Hosts; base pages are loaded once and shared by
// all hosts.
//
// Typical use in a test:
//
//	farm, err := testfarm.New(testfarm.Config{Hosts: 200})
//	if errors.Is(err, testfarm.ErrNoData) {
//		t.Skip(err)
//	}
//	if err != nil { t.Fatal(err) }
//	if err := farm.Start(ctx); err != nil { t.Fatal(err) }
//	t.Cleanup(func() { farm.Close() })
//	// scanner flags: --resolver farm.DNSAddr() --ca-cert farm.CAFile()
//	// ports 80/443 -> farm.PortMap(); allow 127.0.0.1 only
//	// compare the results with farm.Truth()
package testfarm
