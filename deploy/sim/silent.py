#!/usr/bin/env python3
"""A BMC that never answers: binds the UDP port and reads forever."""
import socket
import sys

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
while True:
    s.recvfrom(4096)
