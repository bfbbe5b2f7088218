package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/rxprobe/rxprobe/rx/config"
)

func init() {
	cfgCmd := &cobra.Command{Use: "config", Short: "Inspect configuration"}
	var path, hostRoot string
	print := &cobra.Command{
		Use:   "print --config FILE",
		Short: "Print the effective configuration: file, RXPROBE_* environment and defaults merged and validated",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := loadConfig(path, hostRoot, config.NewViper())
			if err != nil {
				return err
			}
			b, err := yaml.Marshal(cfg)
			if err != nil {
				return fmt.Errorf("config: %w", err)
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
	print.Flags().StringVarP(&path, "config", "c", "", "YAML config file")
	print.Flags().StringVar(&hostRoot, "host-root", "/", "read /proc and /sys under this root")
	cfgCmd.AddCommand(print)
	rootCmd.AddCommand(cfgCmd)
}
