"""(being written: the blueprint of this part of issue 18)"""
