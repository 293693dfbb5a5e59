"""NIST StRD MGH09: y = b1*(x**2+x*b2) / (x**2+x*b3+b4) (the model as the NIST file states it, b1..b4 -> b[0]..)."""



def model(b, x):
    return b[0] * (x ** 2 + x * b[1]) / (x ** 2 + x * b[2] + b[3])
