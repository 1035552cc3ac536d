package textfmt

import "fmt"

// Bytes prints a size in binary units: 512 → "512 B", 13_107_200 → "12.5 MiB".
func Bytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	f, i := float64(n), 0
	for f >= 1024 && i < len(units)-1 {
		f, i = f/1024, i+1
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return Value(f, units[i])
}
