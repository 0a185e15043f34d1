def check(schema, verify=False):
    return schema
