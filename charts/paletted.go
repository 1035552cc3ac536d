package charts

import (
	"image"
	"image/color"
	"sync"

	"gonum.org/v1/plot/plotter"
)

// The PNG is encoded from a paletted copy of the drawn image: one byte per pixel instead of four, and
// the encoder skips its per-row filters for paletted images, which together halve the encoding time.
// The palette holds white, a grey ramp for text and grid, and each series colour and the threshold
// colour blended with white in steps, so anti-aliased edges keep their shade.

// blendSteps is how many shades of each colour, from the colour itself towards white, the palette holds.
const blendSteps = 18

// chartPalette is built once: 1 white + 64 greys + 9 colours × blendSteps shades ≤ 256.
var chartPalette = buildPalette()

func buildPalette() color.Palette {
	p := color.Palette{color.RGBA{255, 255, 255, 255}}
	for i := 0; i < 64; i++ {
		y := uint8(i * 255 / 64)
		p = append(p, color.RGBA{y, y, y, 255})
	}
	bases := append(append([]color.RGBA{}, palette...), thresholdColor)
	for _, c := range bases {
		for s := 0; s < blendSteps; s++ {
			f := float64(s) / blendSteps // 0: the colour, towards 1: white
			mix := func(v uint8) uint8 { return uint8(float64(v) + (255-float64(v))*f + 0.5) }
			p = append(p, color.RGBA{mix(c.R), mix(c.G), mix(c.B), 255})
		}
	}
	return p
}

// lut maps a colour, 5 bits per channel, to its nearest palette entry; built on the first chart.
var (
	lutOnce sync.Once
	lut     []uint8
)

func buildLUT() {
	lut = make([]uint8, 1<<15)
	for i := range lut {
		r, g, b := uint8(i>>10)<<3|4, uint8(i>>5&31)<<3|4, uint8(i&31)<<3|4
		lut[i] = uint8(chartPalette.Index(color.RGBA{r, g, b, 255}))
	}
}

// toPaletted maps an opaque RGBA image onto chartPalette: white stays white, every other colour
// takes the palette entry nearest to it (looked up in a 32×32×32 table). dst has src's bounds.
func toPaletted(src *image.RGBA, dst *image.Paletted) {
	lutOnce.Do(buildLUT)
	b := src.Bounds()
	w := b.Dx()
	for y := 0; y < b.Dy(); y++ {
		row := src.Pix[y*src.Stride : y*src.Stride+4*w]
		out := dst.Pix[y*dst.Stride : y*dst.Stride+w]
		for x := range out {
			r, g, bl := row[4*x], row[4*x+1], row[4*x+2]
			if r == 255 && g == 255 && bl == 255 {
				out[x] = 0 // white
				continue
			}
			out[x] = lut[int(r>>3)<<10|int(g>>3)<<5|int(bl>>3)]
		}
	}
}

// maxPoints is how many points one series keeps: two per pixel column of the plot. More cannot be
// seen, and each costs stroking time.
const maxPoints = 2 * Width

// thin keeps at most maxPoints of xys (sorted by X): the first and last point, and in each of
// maxPoints/2 equal slices of the rest its lowest and highest point, in their order, so peaks and
// dips stay visible.
func thin(xys plotter.XYs) plotter.XYs {
	if len(xys) <= maxPoints {
		return xys
	}
	buckets := maxPoints/2 - 1
	out := make(plotter.XYs, 0, maxPoints)
	out = append(out, xys[0])
	inner := xys[1 : len(xys)-1]
	for b := 0; b < buckets; b++ {
		part := inner[b*len(inner)/buckets : (b+1)*len(inner)/buckets]
		if len(part) == 0 {
			continue
		}
		lo, hi := 0, 0
		for i, p := range part {
			if p.Y < part[lo].Y {
				lo = i
			}
			if p.Y > part[hi].Y {
				hi = i
			}
		}
		out = append(out, part[min(lo, hi)])
		if lo != hi {
			out = append(out, part[max(lo, hi)])
		}
	}
	return append(out, xys[len(xys)-1])
}
