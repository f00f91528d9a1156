# A stand-in for rdma-core's tests/args_parser.py: parses --dev out of sys.argv.
import argparse
import sys


class ArgsParser:
    def __init__(self):
        self.args = None

    def get_config(self):
        return self.args

    def parse_args(self):
        p = argparse.ArgumentParser()
        p.add_argument('--dev')
        ns, rest = p.parse_known_args()
        self.args = vars(ns)
        sys.argv[1:] = rest


parser = ArgsParser()
