package report

import (
	"fmt"
	"strings"

	"github.com/aicensus/aicensus/internal/model"
)

// Definition is one rule the report's numbers follow.
type Definition struct {
	Term string `json:"term"`
	Text string `json:"text"`
}

// classLabel is the short column name of an evidence class.
func classLabel(c string) string {
	switch model.EvidenceClass(c) {
	case model.ClassSelfHostedApp:
		return "app"
	case model.ClassPageEmbed:
		return "embed"
	case model.ClassBrowserAPICall:
		return "api call"
	case model.ClassHeader:
		return "header"
	case model.ClassCSP:
		return "csp"
	case model.ClassDNSVerification:
		return "dns"
	}
	return c
}

// method returns the definitions behind r, with r's own numbers.
func method(r *Report) []Definition {
	p := r.Population
	denom := fmt.Sprintf("Every share's denominator is the %d distinct registrable domains with at least one result of status ok in scan %d "+
		"(the site answered and its page was analysed). Domains whose every result failed (DNS errors, timeouts, TLS errors, ...) "+
		"are not in it; the results by status are listed with the scan.", p.OKDomains, r.Scan.ID)
	if r.Filter.Size != "" {
		denom += fmt.Sprintf(" With the company-size filter it counts only domains whose company is in bucket %s.", r.Filter.Size)
	}
	defs := []Definition{
		{"Unit", "Counts are registrable domains (eTLD+1 from the public suffix list), not hosts or pages: " +
			"chat.example.com and www.example.com count once, as example.com."},
		{"Denominator", denom},
		{"DNS-only hosts", fmt.Sprintf("Detections on results that are not ok, such as a DNS verification record of a domain whose site did not answer, "+
			"are in no count and no denominator: %d domains had AI detections only on such results.", p.ExcludedAIDomains)},
		{"Detected", "A domain counts for a technology when any of its ok results has a detection of it, with any evidence, " +
			"including a DNS verification record or a Content-Security-Policy allowance. Those two show an account or a permission, not a deployment, " +
			"so the evidence columns split the domains by the strongest class seen: self-hosted app > page embed > browser API call > header > CSP > DNS verification. " +
			"The dns column is the domains whose only evidence is a DNS verification record."},
		{"Running", "A deployment is running when the detection has evidence of class self-hosted-app, page-embed, browser-api-call or header " +
			"(model.EvidenceClass.Running). Detections with only CSP or DNS-verification evidence are not running."},
		{"AI only", "The AI sections count only technologies of the AI catalog (detections.ai). The technology table lists AI technologies only unless --all."},
		{"Open vs closed", "Open source means the catalog marks the technology open_source. A domain with both an open-source and a closed AI technology " +
			"counts on both sides and in 'both'. The ratio is closed:open domains, the larger side over the smaller, written X:1 (or 1:X). " +
			"'Running' repeats the comparison with running detections only."},
		{"95% interval", "Shares carry a Wilson score interval without continuity correction, z = 1.96: center = (p + z²/2n)/(1 + z²/n), " +
			"half-width = z/(1 + z²/n)·sqrt(p(1−p)/n + z²/4n²). It stays inside [0, 1] and is sound for small counts; it treats the domains as a random sample."},
		{"Companies", "Company data joins on the registrable domain: the file's website or domain is normalised like scan input to its registrable domain. " +
			"Match rate = domains with company data / domains in the group. Bucket shares are over matched companies. '≤10' is bucket 1-10; " +
			"'≤50' is buckets 1-10 and 11-50 (sources that give ranges cannot separate 50 from 49, so 'under 50' is read as 'at most 50'). " +
			"Unmatched domains are not assumed to be small or large."},
		{"Sources disagree", "When company sources disagree, an exact headcount beats a size range, then the most recently imported source wins, " +
			"then (a domain listed twice in one source) the larger company, then the earlier line."},
	}
	if r.Compare != nil {
		defs = append(defs, Definition{"Compare", fmt.Sprintf("Scan %d against scan %d, over the %d domains ok in both: gained = detected in the second scan and not the first, "+
			"lost = the reverse. A domain that failed in either scan is neither gained nor lost.", r.Compare.After.ID, r.Compare.Before.ID, r.Compare.CommonOK)})
	}
	if r.Universe != nil {
		u := r.Universe
		defs = append(defs, Definition{"Universe estimate", fmt.Sprintf("Assuming the %d scanned domains are a uniform random sample of %d, "+
			"the estimated total is share × %d with the Wilson bounds × %d. Here the share is over all %d sampled domains (a domain that did not answer "+
			"counts as not detected, as it would in the universe). The intervals ignore the finite-population correction sqrt((N−n)/(N−1)) = %.3f, "+
			"so they are conservative when the sample is a large part of the universe.", u.Sample, u.N, u.N, u.N, u.Sample, u.FPC)})
	}
	if !r.Filter.IsZero() {
		defs = append(defs, Definition{"Filter", "Only detections matching " + filterText(r.Filter) + " are counted."})
	}
	return defs
}

// filterText describes a filter in words.
func filterText(f Filter) string {
	var parts []string
	if f.Technology != "" {
		parts = append(parts, "technology "+f.Technology)
	}
	if f.Category != "" {
		parts = append(parts, "category "+f.Category)
	}
	if f.Open != "" {
		parts = append(parts, map[string]string{"open": "open source", "closed": "closed"}[f.Open])
	}
	if f.Evidence == EvidenceRunning {
		parts = append(parts, "running evidence")
	} else if f.Evidence != "" {
		parts = append(parts, "evidence class "+f.Evidence)
	}
	if f.Size != "" {
		parts = append(parts, "company size "+f.Size)
	}
	return strings.Join(parts, ", ")
}

// summary builds the quotable sentences from r.
func summary(r *Report) []string {
	p := r.Population
	var out []string
	out = append(out, fmt.Sprintf("%d domains answered in scan %d (%s); %d of them (%s, 95%% CI %s) show an AI technology, %d with a running deployment.",
		p.OKDomains, r.Scan.ID, r.Scan.Input, p.AI.K, pct(p.AI.P), ci(p.AI), p.AIRunning.K))
	n := 0
	for _, t := range r.Technologies {
		if !t.AI || n == 3 {
			continue
		}
		n++
		s := fmt.Sprintf("%d domains run %s (%s of those that answered, 95%% CI %s)", t.Running, t.Technology, pct(t.RunningShare.P), ci(t.RunningShare))
		if other := t.Domains - t.Running; other > 0 {
			var why []string
			if dns := t.Class(model.ClassDNSVerification); dns > 0 {
				why = append(why, fmt.Sprintf("%d with only a DNS verification record", dns))
			}
			if csp := t.Class(model.ClassCSP); csp > 0 {
				why = append(why, fmt.Sprintf("%d with only a CSP allowance", csp))
			}
			s += fmt.Sprintf("; counting every trace it is detected on %d (%s), %s", t.Domains, pct(t.Share.P), strings.Join(why, " and "))
		}
		out = append(out, s+".")
	}
	oc := r.OpenClosed
	if oc.All.AIDomains > 0 {
		out = append(out, fmt.Sprintf("Closed to open is %s: %d domains use closed AI, %d open-source AI, %d both; counting running deployments only, %s (%d to %d).",
			oc.All.Ratio, oc.All.Closed, oc.All.Open, oc.All.Both, oc.Running.Ratio, oc.Running.Closed, oc.Running.Open))
	}
	if c := r.Companies; c.Available {
		for _, g := range c.Groups {
			if g.Kind == "technology" && g.Matched > 0 {
				out = append(out, fmt.Sprintf("Of the %d %s sites with company data (%s of %d), %s belong to companies with 10 or fewer employees (95%% CI %s), against %s of all %d matched companies in the scan.",
					g.Matched, g.Group, pct(g.MatchRate.P), g.Domains, pct(g.UpTo10.P), ci(g.UpTo10), pct(c.Baseline.UpTo10.P), c.Baseline.Matched))
				break
			}
		}
	}
	return out
}
