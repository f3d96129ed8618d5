class puppetfile_ruby { }
