package pdq_test

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"os"

	"golang.org/x/image/draw"

	"kurir/media/imaging"
	"kurir/safety/pdq"
)

func Example() {
	// The reference's bridge photo, and the same photo shrunk and saved
	// again as a low-quality JPEG.
	file, err := os.Open("testdata/bridge-mods/aaa-orig.jpg")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		fmt.Println(err)
		return
	}
	photo, err := pdq.Decode(file, st.Size(), imaging.Limits{})
	if err != nil {
		fmt.Println(err)
		return
	}
	known, quality, _ := pdq.HashImage(photo)
	fmt.Println(known, quality)

	small := image.NewRGBA(image.Rect(0, 0, 400, 251))
	draw.BiLinear.Scale(small, small.Rect, photo, photo.Bounds(), draw.Src, nil)
	var copied bytes.Buffer
	jpeg.Encode(&copied, small, &jpeg.Options{Quality: 50})
	h, _, err := pdq.HashFile(bytes.NewReader(copied.Bytes()), int64(copied.Len()), imaging.Limits{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("copy matches:", pdq.Distance(known, h) <= pdq.MatchDistance)
	// Output:
	// d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22 100
	// copy matches: true
}

func ExampleDihedral() {
	// A picture and the same picture turned a quarter counterclockwise.
	m := image.NewGray(image.Rect(0, 0, 120, 80))
	for y := range 80 {
		for x := range 120 {
			m.Pix[y*120+x] = uint8((x*x + 3*y*y) / 40)
		}
	}
	turned := image.NewGray(image.Rect(0, 0, 80, 120))
	for y := range 120 {
		for x := range 80 {
			turned.Pix[y*80+x] = m.Pix[x*120+119-y]
		}
	}
	variants, _, _ := pdq.Dihedral(m)
	h, _, _ := pdq.HashImage(turned)
	for v, vh := range variants {
		if pdq.Distance(h, vh) <= pdq.MatchDistance {
			fmt.Println("matches", pdq.Variant(v))
		}
	}
	// Output:
	// matches rotate90
}

func ExampleParseHash() {
	// The reference's hashes of its bridge photo and of a much shrunk copy.
	a, _ := pdq.ParseHash("d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22")
	b, _ := pdq.ParseHash("d0f8f1ccc0f4a84d0a370a3a228f67f0b36e2ed5b6623e1d33e6339c4e9c9b22")
	fmt.Println(pdq.Distance(a, b))
	_, err := pdq.ParseHash("d8f8")
	fmt.Println(err)
	// Output:
	// 14
	// invalid: A PDQ hash is 64 hex digits; this one has 4 characters.
}
