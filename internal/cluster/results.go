package cluster

import (
	"encoding/json"
	"fmt"

	"github.com/klauspost/compress/zstd"

	"github.com/aicensus/aicensus/internal/model"
)

// maxDecoded caps the decompressed size of one results message (a message
// is at most the server's max payload compressed; JSON of results
// compresses 5-20x).
const maxDecoded = 256 << 20

// codec encodes and decodes results messages: a JSON array of
// model.Result, zstd-compressed. It is safe for concurrent use.
type codec struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
}

func newCodec() (*codec, error) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, fmt.Errorf("cluster: zstd: %w", err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(maxDecoded), zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, fmt.Errorf("cluster: zstd: %w", err)
	}
	return &codec{enc: enc, dec: dec}, nil
}

func (c *codec) close() {
	c.enc.Close()
	c.dec.Close()
}

// encode packs results into messages of at most maxBytes each, every
// result whole. A result that alone does not fit becomes an internal-error
// result saying so (it is never dropped).
func (c *codec) encode(results []model.Result, maxBytes int) ([][]byte, error) {
	raw := make([]json.RawMessage, len(results))
	for i := range results {
		b, err := json.Marshal(&results[i])
		if err != nil {
			return nil, fmt.Errorf("encode result %s: %w", results[i].Target, err)
		}
		raw[i] = b
	}
	return c.pack(raw, results, maxBytes)
}

func (c *codec) pack(raw []json.RawMessage, results []model.Result, maxBytes int) ([][]byte, error) {
	var arr []byte
	arr = append(arr, '[')
	for i, r := range raw {
		if i > 0 {
			arr = append(arr, ',')
		}
		arr = append(arr, r...)
	}
	arr = append(arr, ']')
	msg := c.enc.EncodeAll(arr, nil)
	if len(msg) <= maxBytes {
		return [][]byte{msg}, nil
	}
	if len(raw) == 1 {
		r := tooLarge(results[0], len(msg), maxBytes)
		b, err := json.Marshal(&r)
		if err != nil {
			return nil, err
		}
		return [][]byte{c.enc.EncodeAll(append(append([]byte{'['}, b...), ']'), nil)}, nil
	}
	half := len(raw) / 2
	a, err := c.pack(raw[:half], results[:half], maxBytes)
	if err != nil {
		return nil, err
	}
	b, err := c.pack(raw[half:], results[half:], maxBytes)
	if err != nil {
		return nil, err
	}
	return append(a, b...), nil
}

// tooLarge replaces a result that does not fit in a message.
func tooLarge(r model.Result, size, limit int) model.Result {
	return model.Result{
		ScanID: r.ScanID, Target: r.Target, Input: r.Input, Line: r.Line, Domain: r.Domain,
		Status: model.StatusInternalError, Time: r.Time, DurationMS: r.DurationMS,
		Error:      fmt.Sprintf("cluster: the result (%d bytes compressed, status %s, %d detections) exceeds the bus's message limit of %d bytes", size, r.Status, len(r.Detections), limit),
		Detections: []model.Detection{},
	}
}

// decode parses a results message. The bytes come from the network: the
// decompressed size is capped and every result is validated.
func (c *codec) decode(msg []byte) ([]model.Result, error) {
	arr, err := c.dec.DecodeAll(msg, nil)
	if err != nil {
		return nil, fmt.Errorf("decode results: %w", err)
	}
	var out []model.Result
	if err := json.Unmarshal(arr, &out); err != nil {
		return nil, fmt.Errorf("decode results: %w", err)
	}
	for i := range out {
		r := &out[i]
		switch {
		case r.Line < 1:
			return nil, fmt.Errorf("decode results: %q: line %d", r.Target, r.Line)
		case r.Target == "" || !r.Status.Valid():
			return nil, fmt.Errorf("decode results: line %d: target %q, status %q", r.Line, r.Target, r.Status)
		}
		if r.Detections == nil {
			r.Detections = []model.Detection{}
		}
	}
	return out, nil
}
