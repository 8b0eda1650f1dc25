/*
 * The version of the module and its CLIs, printed by "--version".
 */

#ifndef _COMPLIANCE_VERSION_H_INCLUDED_
#define _COMPLIANCE_VERSION_H_INCLUDED_


#define COMPLIANCE_VERSION  "0.2.0"


#endif /* _COMPLIANCE_VERSION_H_INCLUDED_ */
