package imaging_test

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"strings"

	"kurir"
	"kurir/media/imaging"
)

func ExampleInspect() {
	var photo bytes.Buffer
	png.Encode(&photo, image.NewGray(image.Rect(0, 0, 640, 480)))
	info, err := imaging.Inspect(bytes.NewReader(photo.Bytes()), imaging.Limits{})
	fmt.Println(info.Format, info.Width, info.Height, err)

	_, err = imaging.Inspect(strings.NewReader("Dear Alice"), imaging.Limits{})
	fmt.Printf("%s: %s\n", kurir.ErrorReason(err), kurir.ErrorMessage(err))

	_, err = imaging.Inspect(bytes.NewReader(photo.Bytes()), imaging.Limits{MaxPixels: 100_000})
	fmt.Printf("%s: %s\n", kurir.ErrorReason(err), kurir.ErrorMessage(err))
	// Output:
	// png 640 480 <nil>
	// not_an_image: The file is not an image: its content is of type text/plain.
	// image_too_large: The image is 640 × 480 pixels (307200 pixels); the limit is 100000 pixels and 30000 pixels on a side.
}

func ExampleThumbnail() {
	var photo bytes.Buffer
	jpeg.Encode(&photo, image.NewGray(image.Rect(0, 0, 4000, 3000)), nil)
	file := bytes.NewReader(photo.Bytes()) // an *os.File in the server

	th, err := imaging.Thumbnail(file, file.Size(), imaging.Limits{}, 320)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(th.Width, th.Height, imaging.Sniff(th.JPEG))
	// Output: 320 240 image/jpeg
}

func ExampleStripMetadata() {
	var photo bytes.Buffer
	jpeg.Encode(&photo, image.NewGray(image.Rect(0, 0, 8, 8)), nil)
	// Put a comment after the start-of-image marker, as some cameras do.
	comment := []byte("\xff\xfe\x00\x0eTaken at home")
	withComment := append(append(photo.Bytes()[:2:2], comment...), photo.Bytes()[2:]...)

	var stripped bytes.Buffer
	err := imaging.StripMetadata(&stripped, bytes.NewReader(withComment), int64(len(withComment)))
	fmt.Println(err, bytes.Contains(stripped.Bytes(), []byte("home")), bytes.Equal(stripped.Bytes(), photo.Bytes()))
	// Output: <nil> false true
}
