package main

import (
	"github.com/spf13/pflag"

	"github.com/aicensus/aicensus/internal/catalog"
	"github.com/aicensus/aicensus/internal/detect"
)

// catalogOptions are the fingerprint flags shared by detect and scan.
type catalogOptions struct {
	paths         []string
	noEmbedded    bool
	minConfidence int
}

func (o *catalogOptions) addFlags(f *pflag.FlagSet) {
	f.StringArrayVar(&o.paths, "catalog", nil, "add a Wappalyzer-format fingerprint file or folder (repeatable; the embedded AI catalog wins name clashes)")
	f.BoolVar(&o.noEmbedded, "no-ai-catalog", false, "do not load the embedded AI catalog (use only --catalog files)")
	f.IntVar(&o.minConfidence, "min-confidence", detect.DefaultMinConfidence, "drop detections whose summed confidence is lower (0 keeps all)")
}

// detector loads the catalogs and compiles a detector.
func (o *catalogOptions) detector() (*detect.Detector, error) {
	cat, err := catalog.Open(o.noEmbedded, o.paths...)
	if err != nil {
		return nil, err
	}
	min := o.minConfidence
	if min == 0 {
		min = -1
	}
	return detect.New(cat, detect.Options{MinConfidence: min})
}
