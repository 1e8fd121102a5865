package org.edgeocr.core;

/** A dense float32 tensor in row-major (C) order: what every stage feeds to and gets from a backend. */
public final class Tensor {
    public final float[] data;
    public final long[] shape;

    public Tensor(float[] data, long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        if (n != data.length) {
            throw new IllegalArgumentException("tensor data has " + data.length + " values, shape needs " + n);
        }
        this.data = data;
        this.shape = shape;
    }

    public int dim(int i) {
        return (int) shape[i];
    }
}
