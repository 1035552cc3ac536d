package main

import (
	"io"

	"github.com/perfbot/perfbot/deploy"
)

func cmdManifest(stdout io.Writer) error {
	_, err := stdout.Write(deploy.SlackManifest)
	return err
}
