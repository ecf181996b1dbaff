package web

import (
	"bytes"
	_ "embed"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
)

// faviconSVG is the mark browsers that read SVG icons use.
//
//go:embed favicon.svg
var faviconSVG []byte

// iconRect is a rounded rectangle on the icon's 32×32 grid.
type iconRect struct{ x, y, w, h, r float64 }

func (q iconRect) contains(x, y float64) bool {
	if x < q.x || y < q.y || x > q.x+q.w || y > q.y+q.h {
		return false
	}
	// Outside a corner's quarter circle?
	cx := min(max(x, q.x+q.r), q.x+q.w-q.r)
	cy := min(max(y, q.y+q.r), q.y+q.h-q.r)
	dx, dy := x-cx, y-cy
	return dx*dx+dy*dy <= q.r*q.r
}

// The shapes of favicon.svg.
var (
	iconTile = iconRect{0, 0, 32, 32, 7}
	iconBars = []iconRect{{6, 18, 5, 8, 1}, {13.5, 13, 5, 13, 1}, {21, 8, 5, 18, 1}}
	iconFrom = color.RGBA{0xff, 0x7a, 0x1a, 0xff}
	iconTo   = color.RGBA{0xff, 0xa2, 0x60, 0xff}
	iconInk  = color.RGBA{0x0d, 0x10, 0x16, 0xff}
)

// drawIcon renders the mark at size×size pixels, 4×4 samples a pixel.
func drawIcon(size int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	const n = 4
	scale := 32 / float64(size)
	for py := range size {
		for px := range size {
			var r, g, b, a float64
			for sy := range n {
				for sx := range n {
					x := (float64(px) + (float64(sx)+0.5)/n) * scale
					y := (float64(py) + (float64(sy)+0.5)/n) * scale
					if !iconTile.contains(x, y) {
						continue
					}
					c := iconInk
					bar := false
					for _, q := range iconBars {
						bar = bar || q.contains(x, y)
					}
					if !bar {
						// The tile's diagonal gradient.
						t := (x + y) / 64
						lerp := func(a, b uint8) uint8 { return uint8(float64(a) + t*(float64(b)-float64(a))) }
						c = color.RGBA{lerp(iconFrom.R, iconTo.R), lerp(iconFrom.G, iconTo.G), lerp(iconFrom.B, iconTo.B), 0xff}
					}
					r, g, b, a = r+float64(c.R), g+float64(c.G), b+float64(c.B), a+1
				}
			}
			if a == 0 {
				continue
			}
			img.SetNRGBA(px, py, color.NRGBA{uint8(r / a), uint8(g / a), uint8(b / a), uint8(255 * a / (n * n))})
		}
	}
	return img
}

// buildFaviconICO packs the mark at 16 and 32 pixels into an ICO file
// whose images are PNGs (read by every browser since IE 9).
func buildFaviconICO() ([]byte, error) {
	sizes := []int{16, 32}
	var pngs [][]byte
	for _, s := range sizes {
		var buf bytes.Buffer
		if err := png.Encode(&buf, drawIcon(s)); err != nil {
			return nil, fmt.Errorf("cannot encode the %dpx icon: %w", s, err)
		}
		pngs = append(pngs, buf.Bytes())
	}
	var out bytes.Buffer
	le := binary.LittleEndian
	out.Write(le.AppendUint16(le.AppendUint16(le.AppendUint16(nil, 0), 1), uint16(len(sizes)))) // reserved, type 1 (icon), count
	offset := 6 + 16*len(sizes)
	for i, s := range sizes {
		entry := []byte{byte(s), byte(s), 0, 0} // width, height, no palette, reserved
		entry = le.AppendUint16(entry, 1)       // colour planes
		entry = le.AppendUint16(entry, 32)      // bits per pixel
		entry = le.AppendUint32(entry, uint32(len(pngs[i])))
		entry = le.AppendUint32(entry, uint32(offset))
		out.Write(entry)
		offset += len(pngs[i])
	}
	for _, p := range pngs {
		out.Write(p)
	}
	return out.Bytes(), nil
}

// favicon serves the mark: /favicon.ico as ICO, /favicon.svg as SVG.
func favicon(body []byte, contentType string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("Cache-Control", "public, max-age=86400")
		w.Write(body)
	}
}
