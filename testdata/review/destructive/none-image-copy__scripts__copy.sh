#!/bin/sh
dd if=in.img of=out.img bs=1M
