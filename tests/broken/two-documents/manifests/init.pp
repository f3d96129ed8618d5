class two_documents { }
