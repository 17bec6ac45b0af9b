package main

import "github.com/spf13/cobra"

// subcommands lists every aicensus subcommand, in help order. Each lives in
// its own cmd_<name>.go file; add new ones here (no init registries).
func subcommands(g *globalOptions) []*cobra.Command {
	return []*cobra.Command{
		newDetectCommand(g),
		newScanCommand(g),
		newWorkerCommand(g),
		newVersionCommand(),
		newExportCommand(g),
		newReportCommand(g),
		newServeCommand(g),
		newCompaniesCommand(g),
		newTestfarmCommand(g),
		newSupplyCommand(g),
		newDepsCommand(g),
		newAgentsCommand(g),
	}
}
