"""NIST StRD DanWood: y = b1*x**b2 (the model as the NIST file states it, b1..b2 -> b[0]..)."""



def model(b, x):
    return b[0] * x ** b[1]
