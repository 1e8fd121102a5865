"""edgeocr/backends"""
